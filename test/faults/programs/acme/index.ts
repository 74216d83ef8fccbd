// The fault suite's program: an account key, a Registration (with External Account Binding when configured) and
// a Route53Certificate (key, CSR, Order, TXT records, Certificate that depends on the records), from the
// installed package. Everything comes from stack config, so each test picks its CA, names and nameservers.
import * as pulumi from "@pulumi/pulumi";
import * as acme from "pulumi-acme-certs";

const config = new pulumi.Config();
const eabKeyId = config.get("eabKeyId");

const accountKey = new acme.PrivateKey("account-key");
const account = new acme.Registration("account", {
    accountKeyPem: accountKey.privateKeyPem,
    termsOfServiceAgreed: true,
    email: config.get("email"),
    ...(eabKeyId ? { externalAccountBinding: { keyId: eabKeyId, hmacKey: config.requireSecret("eabHmacKey") } } : {}),
});

const site = new acme.Route53Certificate("site", {
    account,
    domains: config.requireObject<string[]>("domains"),
    hostedZoneId: config.require("hostedZoneId"),
    renewBefore: config.get("renewBefore"),
    propagation: {
        nameservers: config.requireObject<string[]>("nameservers"),
        timeoutSeconds: config.getNumber("propagationTimeoutSeconds") ?? 20,
        intervalSeconds: 0.2,
    },
});

export const accountUrl = account.accountUrl;
export const orderUrl = site.order.orderUrl;
export const dnsChallenges = site.order.dnsChallenges;
export const keyFingerprint = site.key.publicKeyFingerprintSha256;
export const serialNumber = site.serialNumber;
export const notAfter = site.notAfter;
export const certificatePem = site.certificatePem;
export const fullChainPem = site.fullChainPem;
export const privateKeyPem = site.privateKeyPem;
