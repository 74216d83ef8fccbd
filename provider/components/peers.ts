// The cloud SDKs are optional peers: a program that only writes Kubernetes Secrets need not install @pulumi/aws,
// and nothing pays for loading an SDK it does not use.
import * as pulumi from "@pulumi/pulumi";

export function awsSdk(component: string): typeof import("@pulumi/aws") {
    return requirePeer("@pulumi/aws", component);
}

export function kubernetesSdk(component: string): typeof import("@pulumi/kubernetes") {
    return requirePeer("@pulumi/kubernetes", component);
}

function requirePeer<T>(name: string, component: string): T {
    try {
        return require(name);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw error;
        throw new pulumi.RunError(`${component} needs ${name}: add it to your program with \`npm install ${name}\``);
    }
}
