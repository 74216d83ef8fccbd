// Delivery into a Kubernetes `kubernetes.io/tls` Secret, as Ingress controllers and cert-manager users expect it.
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kubernetesSdk } from "./peers";

/** Anything that has a certificate chain and its key: a Certificate-bearing component, or values from elsewhere. */
export interface TlsCertificateSource {
    /** Leaf and intermediates. */
    fullChainPem: pulumi.Input<string>;
    /** Secret. */
    privateKeyPem: pulumi.Input<string>;
    /** The intermediates, for `ca.crt`. */
    issuerPem?: pulumi.Input<string>;
    dnsNames?: pulumi.Input<string[]>;
    notAfter?: pulumi.Input<string>;
    serialNumber?: pulumi.Input<string>;
    issuerCommonName?: pulumi.Input<string | null>;
}

/** The Secret's keys, as the Kubernetes API defines them for `kubernetes.io/tls` (plus the conventional ca.crt). */
export const TLS_SECRET_KEYS = { certificate: "tls.crt", privateKey: "tls.key", ca: "ca.crt" } as const;

/** Annotations describing the certificate, in the manner of cert-manager's (under this package's prefix). */
export const ANNOTATIONS = {
    altNames: "pulumi-acme-certs/alt-names",
    notAfter: "pulumi-acme-certs/not-after",
    serialNumber: "pulumi-acme-certs/serial-number",
    issuer: "pulumi-acme-certs/issuer",
} as const;

export interface KubernetesTlsSecretArgs {
    certificate: TlsCertificateSource;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    /** Also write the intermediates as `ca.crt`. @default false */
    includeCaCertificate?: boolean;
}

/**
 * A `kubernetes.io/tls` Secret holding the certificate (`tls.crt` = leaf + intermediates) and its key (`tls.key`),
 * annotated with its names, expiry, serial and issuer. A renewal updates the Secret in place, under the same name,
 * so workloads that mount it or Ingresses that reference it keep working.
 */
export class KubernetesTlsSecret extends pulumi.ComponentResource {
    readonly secret: k8s.core.v1.Secret;

    constructor(name: string, args: KubernetesTlsSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pulumi-acme-certs:index:KubernetesTlsSecret", name, {}, opts);
        const sdk = kubernetesSdk("KubernetesTlsSecret");
        if (!args.metadata?.name) throw new pulumi.ResourceError("metadata.name is required: the Secret's name", this);
        if (args.includeCaCertificate && args.certificate.issuerPem === undefined) {
            throw new pulumi.ResourceError("includeCaCertificate needs certificate.issuerPem", this);
        }
        const { certificate } = args;
        const stringData: Record<string, pulumi.Input<string>> = {
            [TLS_SECRET_KEYS.certificate]: certificate.fullChainPem,
            [TLS_SECRET_KEYS.privateKey]: pulumi.secret(certificate.privateKeyPem),
        };
        if (args.includeCaCertificate) stringData[TLS_SECRET_KEYS.ca] = certificate.issuerPem!;
        this.secret = new sdk.core.v1.Secret(
            `${name}-secret`,
            {
                metadata: {
                    name: args.metadata.name,
                    namespace: args.metadata.namespace,
                    labels: args.metadata.labels,
                    annotations: pulumi
                        .output(describingAnnotations(certificate))
                        .apply((described) => ({ ...described, ...args.metadata.annotations })),
                },
                type: "kubernetes.io/tls",
                stringData,
            },
            { parent: this },
        );
        this.registerOutputs({ secret: this.secret });
    }
}

function describingAnnotations(certificate: TlsCertificateSource): pulumi.Output<Record<string, string>> {
    return pulumi
        .all([certificate.dnsNames, certificate.notAfter, certificate.serialNumber, certificate.issuerCommonName])
        .apply(([dnsNames, notAfter, serialNumber, issuer]) => {
            const annotations: Record<string, string> = {};
            if (dnsNames) annotations[ANNOTATIONS.altNames] = dnsNames.join(",");
            if (notAfter) annotations[ANNOTATIONS.notAfter] = notAfter;
            if (serialNumber) annotations[ANNOTATIONS.serialNumber] = serialNumber;
            if (issuer) annotations[ANNOTATIONS.issuer] = issuer;
            return annotations;
        });
}
