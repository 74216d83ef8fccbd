// Delivery onto an AWS load balancer: import into ACM, then attach to a listener (or create an HTTPS listener).
import * as crypto from "node:crypto";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsSdk } from "./peers";

export interface LoadBalancerCertificateSource {
    /** The leaf only: ACM takes the chain separately. */
    certificatePem: pulumi.Input<string>;
    /** The intermediates. */
    issuerPem: pulumi.Input<string>;
    /** Secret. */
    privateKeyPem: pulumi.Input<string>;
}

export interface LoadBalancerCertificateArgs {
    certificate: LoadBalancerCertificateSource;
    /** Attach to this existing HTTPS listener as an additional certificate (SNI). */
    listenerArn?: pulumi.Input<string>;
    /** Or create an HTTPS listener on this load balancer, with the certificate as its default. */
    loadBalancerArn?: pulumi.Input<string>;
    /** @default 443 */
    port?: number;
    /** Where the new listener forwards to. */
    defaultTargetGroupArn?: pulumi.Input<string>;
    /** @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
    sslPolicy?: pulumi.Input<string>;
    tags?: pulumi.Input<Record<string, string>>;
}

/** Key kinds ACM imports (and so ALB serves), as node:crypto names them. */
const ACM_RSA_BITS = [1024, 2048, 3072, 4096];
const ACM_CURVES = ["prime256v1", "secp384r1", "secp521r1"];

/**
 * The certificate imported into ACM (`certificateBody` = leaf, `certificateChain` = intermediates) and served by a
 * load balancer. A renewal re-imports into the same ACM ARN, so listeners that use it keep working without a change.
 */
export class LoadBalancerCertificate extends pulumi.ComponentResource {
    readonly acmCertificate: aws.acm.Certificate;
    readonly listenerCertificate?: aws.lb.ListenerCertificate;
    readonly listener?: aws.lb.Listener;
    readonly certificateArn: pulumi.Output<string>;

    constructor(name: string, args: LoadBalancerCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pulumi-acme-certs:index:LoadBalancerCertificate", name, {}, opts);
        const sdk = awsSdk("LoadBalancerCertificate");
        const attach = args.listenerArn !== undefined;
        const create = args.loadBalancerArn !== undefined;
        if (attach === create) {
            throw new pulumi.ResourceError(
                "give either listenerArn (attach) or loadBalancerArn (create a listener)",
                this,
            );
        }
        if (create && args.defaultTargetGroupArn === undefined) {
            throw new pulumi.ResourceError(
                "a new listener needs defaultTargetGroupArn: where to forward requests",
                this,
            );
        }
        this.acmCertificate = new sdk.acm.Certificate(
            `${name}-acm`,
            {
                certificateBody: args.certificate.certificatePem,
                certificateChain: args.certificate.issuerPem,
                privateKey: pulumi.secret(
                    pulumi.output(args.certificate.privateKeyPem).apply((pem) => usableByAcm(pem, this)),
                ),
                tags: args.tags,
            },
            { parent: this },
        );
        this.certificateArn = this.acmCertificate.arn;
        if (attach) {
            this.listenerCertificate = new sdk.lb.ListenerCertificate(
                `${name}-attachment`,
                { listenerArn: args.listenerArn!, certificateArn: this.acmCertificate.arn },
                { parent: this },
            );
        } else {
            this.listener = new sdk.lb.Listener(
                `${name}-listener`,
                {
                    loadBalancerArn: args.loadBalancerArn!,
                    port: args.port ?? 443,
                    protocol: "HTTPS",
                    sslPolicy: args.sslPolicy ?? "ELBSecurityPolicy-TLS13-1-2-2021-06",
                    certificateArn: this.acmCertificate.arn,
                    defaultActions: [{ type: "forward", targetGroupArn: args.defaultTargetGroupArn! }],
                    tags: args.tags,
                },
                { parent: this },
            );
        }
        this.registerOutputs({ certificateArn: this.certificateArn });
    }
}

/** The key, unchanged, if ACM can import it; otherwise a deployment error saying what to use. */
function usableByAcm(pem: string, parent: pulumi.Resource): string {
    const problem = acmKeyProblem(pem);
    if (problem !== undefined) throw new pulumi.ResourceError(problem, parent);
    return pem;
}

/** Why ACM cannot import this private key (and so no load balancer can serve it), or undefined when it can. */
export function acmKeyProblem(pem: string): string | undefined {
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey(pem);
    } catch {
        return "certificate.privateKeyPem is not a PEM private key";
    }
    const details = key.asymmetricKeyDetails ?? {};
    const usable =
        (key.asymmetricKeyType === "rsa" && ACM_RSA_BITS.includes(details.modulusLength ?? 0)) ||
        (key.asymmetricKeyType === "ec" && ACM_CURVES.includes(details.namedCurve ?? ""));
    if (usable) return undefined;
    const size = details.modulusLength
        ? ` of ${details.modulusLength} bits`
        : details.namedCurve
          ? ` on ${details.namedCurve}`
          : "";
    return `ACM cannot import this ${key.asymmetricKeyType} key${size}: use an ECDSA P256/P384 or RSA 2048–4096 key`;
}
