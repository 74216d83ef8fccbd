// The whole chain in one declaration: key, CSR, order, Route53 challenge records, certificate.
import * as pulumi from "@pulumi/pulumi";
import type { AcmeAccountArgs } from "../resources/account";
import { Certificate, type PropagationArgs } from "../resources/certificate";
import { CertificateRequest } from "../resources/certificateRequest";
import { Order } from "../resources/order";
import { PrivateKey, type PrivateKeyArgs } from "../resources/privateKey";
import { Route53ChallengeRecords } from "./route53ChallengeRecords";

/** Key kinds by the names certificate tooling uses for them. */
export type KeyAlgorithmName = "P256" | "P384" | "RSA2048" | "RSA3072" | "RSA4096";

const KEY_ALGORITHMS: Record<KeyAlgorithmName, PrivateKeyArgs> = {
    P256: { algorithm: "ECDSA", ecdsaCurve: "P256" },
    P384: { algorithm: "ECDSA", ecdsaCurve: "P384" },
    RSA2048: { algorithm: "RSA", rsaBits: 2048 },
    RSA3072: { algorithm: "RSA", rsaBits: 3072 },
    RSA4096: { algorithm: "RSA", rsaBits: 4096 },
};

export interface Route53CertificateArgs {
    /** The ACME account: a Registration. */
    account: AcmeAccountArgs;
    /** The certificate's names, e.g. ["example.com", "*.example.com"]; plain values, so preview lists every record. */
    domains: string[];
    /** @default the first domain, when it fits */
    commonName?: string;
    /** One hosted zone for every name. */
    hostedZoneId?: pulumi.Input<string>;
    /** Hosted zone id per domain suffix; without either, zones are looked up by name. */
    hostedZones?: Record<string, pulumi.Input<string>>;
    /** CNAME delegation of `_acme-challenge` per name (see Route53ChallengeRecords). */
    delegations?: Record<string, string>;
    /** TTL of the challenge records. @default 60 */
    ttl?: number;
    /** Bring your own key (kept across renewals; replace it to rotate). */
    key?: PrivateKey;
    /** The kind of key made when `key` is not given. @default "P256" */
    keyAlgorithm?: KeyAlgorithmName;
    /** How long before expiry to renew, e.g. "30d". @default a third of the lifetime */
    renewBefore?: string;
    propagation?: pulumi.Input<PropagationArgs>;
    revokeOnDestroy?: pulumi.Input<boolean>;
    preferredChain?: pulumi.Input<string>;
    profile?: pulumi.Input<string>;
}

/**
 * A certificate for `domains` validated with DNS-01 through Route53 records written by the stack's own AWS
 * provider (pass it as `providers: { aws }` or `provider`). Creates, as children: a PrivateKey (unless `key` is
 * given), a CertificateRequest, an Order, Route53ChallengeRecords and a Certificate that waits for the records.
 * When the certificate is due, `pulumi up --refresh` renews the order, the records and the certificate together.
 */
export class Route53Certificate extends pulumi.ComponentResource {
    readonly key: PrivateKey;
    readonly certificateRequest: CertificateRequest;
    readonly order: Order;
    readonly records: Route53ChallengeRecords;
    readonly certificate: Certificate;

    readonly certificatePem: pulumi.Output<string>;
    readonly issuerPem: pulumi.Output<string>;
    readonly fullChainPem: pulumi.Output<string>;
    /** Secret. */
    readonly privateKeyPem: pulumi.Output<string>;
    readonly notBefore: pulumi.Output<string>;
    readonly notAfter: pulumi.Output<string>;
    readonly renewAt: pulumi.Output<string>;
    readonly serialNumber: pulumi.Output<string>;
    readonly dnsNames: pulumi.Output<string[]>;
    readonly issuerCommonName: pulumi.Output<string | null>;

    constructor(name: string, args: Route53CertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pulumi-acme-certs:index:Route53Certificate", name, {}, opts);
        if (args.key !== undefined && args.keyAlgorithm !== undefined) {
            throw new pulumi.ResourceError("give either key or keyAlgorithm, not both", this);
        }
        const keyArgs = args.keyAlgorithm === undefined ? {} : KEY_ALGORITHMS[args.keyAlgorithm];
        if (keyArgs === undefined) {
            throw new pulumi.ResourceError(
                `keyAlgorithm ${JSON.stringify(args.keyAlgorithm)} is not supported: use one of ${Object.keys(KEY_ALGORITHMS).join(", ")}`,
                this,
            );
        }
        const parent = { parent: this };
        this.key = args.key ?? new PrivateKey(`${name}-key`, keyArgs, parent);
        this.certificateRequest = new CertificateRequest(
            `${name}-csr`,
            { privateKeyPem: this.key.privateKeyPem, dnsNames: args.domains, commonName: args.commonName },
            parent,
        );
        this.order = new Order(
            `${name}-order`,
            {
                account: args.account,
                csrPem: this.certificateRequest.csrPem,
                dnsNames: args.domains,
                challengeType: "dns-01",
                profile: args.profile,
                renewBefore: args.renewBefore,
            },
            parent,
        );
        this.records = new Route53ChallengeRecords(
            `${name}-records`,
            {
                order: this.order,
                domains: args.domains,
                hostedZoneId: args.hostedZoneId,
                hostedZones: args.hostedZones,
                delegations: args.delegations,
                ttl: args.ttl,
            },
            parent,
        );
        this.certificate = new Certificate(
            `${name}-certificate`,
            {
                account: args.account,
                order: this.order,
                csrPem: this.certificateRequest.csrPem,
                propagation: args.propagation,
                renewBefore: args.renewBefore,
                revokeOnDestroy: args.revokeOnDestroy,
                preferredChain: args.preferredChain,
            },
            { parent: this, dependsOn: this.records.records },
        );

        this.certificatePem = this.certificate.certificatePem;
        this.issuerPem = this.certificate.issuerPem;
        this.fullChainPem = this.certificate.fullChainPem;
        this.privateKeyPem = pulumi.secret(this.key.privateKeyPem);
        this.notBefore = this.certificate.notBefore;
        this.notAfter = this.certificate.notAfter;
        this.renewAt = this.certificate.renewAt;
        this.serialNumber = this.certificate.serialNumber;
        this.dnsNames = this.certificate.dnsNames;
        this.issuerCommonName = this.certificate.issuerCommonName;
        this.registerOutputs({
            certificatePem: this.certificatePem,
            issuerPem: this.issuerPem,
            fullChainPem: this.fullChainPem,
            privateKeyPem: this.privateKeyPem,
            notAfter: this.notAfter,
            renewAt: this.renewAt,
            dnsNames: this.dnsNames,
        });
    }
}
