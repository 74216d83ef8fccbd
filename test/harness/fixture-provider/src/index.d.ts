import * as pulumi from "@pulumi/pulumi";

export interface ThingArgs {
    /** Updates in place; must be non-empty (Check). */
    label: pulumi.Input<string>;
    /** A change replaces the resource. */
    generation?: pulumi.Input<number>;
    /** Updates in place; echoed as an output of the same name. */
    note?: pulumi.Input<string>;
    /** Where the remote objects (JSON files) live. */
    remoteDir: pulumi.Input<string>;
    /** After this many seconds the provider's diff asks for a replacement. Default 3600. */
    lifetimeSeconds?: pulumi.Input<number>;
    /** Makes Create slow (for crash injection). */
    createDelayMs?: pulumi.Input<number>;
}

/** The fixture's dynamic resource, type `pulumi-nodejs:dynamic/fixture:Thing`. */
export declare class Thing extends pulumi.dynamic.Resource {
    readonly label: pulumi.Output<string>;
    readonly note: pulumi.Output<string | undefined>;
    /** Random, secret (additionalSecretOutputs). */
    readonly token: pulumi.Output<string>;
    /** A hash of the label. */
    readonly digest: pulumi.Output<string>;
    /** `<project>:greeting` from the stack config, as the provider's configure() saw it. */
    readonly greeting: pulumi.Output<string>;
    readonly createdAt: pulumi.Output<string>;
    readonly expiresAt: pulumi.Output<string>;
    constructor(name: string, args: ThingArgs, opts?: pulumi.CustomResourceOptions);
}
