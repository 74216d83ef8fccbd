// A certificate from Let's Encrypt (or any ACME CA) for the configured names, validated with DNS-01 through TXT
// records in a Route53 hosted zone, and delivered into a `kubernetes.io/tls` Secret that an Ingress can reference.
// Run `pulumi up --refresh` (daily, from a schedule) to renew it: the Secret is updated in place.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as acme from "pulumi-acme-certs";

const config = new pulumi.Config();
const domains = config.requireObject<string[]>("domains");

// The account key is the ACME account: keep it in the stack, and the same account is used on every run.
const accountKey = new acme.PrivateKey("account-key");
// Directory (and, for a private CA, its certificates) from `acme:directoryUrl` / `acme:caCertificatesPem`.
const account = new acme.Registration("account", {
    accountKeyPem: accountKey.privateKeyPem,
    termsOfServiceAgreed: true,
});

const zone = aws.route53.getZoneOutput({ name: config.require("zone") });
const site = new acme.Route53Certificate("site", {
    account,
    domains,
    hostedZoneId: zone.zoneId,
    renewBefore: config.get("renewBefore"),
    // Only for split-horizon DNS or a test stack: by default the zone's authoritative nameservers are asked.
    propagation: config.getObject<acme.PropagationArgs>("propagation"),
});

const tls = new acme.KubernetesTlsSecret("site-tls", {
    certificate: site,
    metadata: { name: config.get("secretName") ?? "site-tls", namespace: config.get("namespace") ?? "default" },
});

export const dnsNames = site.dnsNames;
export const issuer = site.issuerCommonName;
export const serialNumber = site.serialNumber;
export const notAfter = site.notAfter;
export const renewAt = site.renewAt;
export const secretNamespace = tls.secret.metadata.namespace;
export const secretName = tls.secret.metadata.name;
