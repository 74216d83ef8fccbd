// A certificate from Let's Encrypt (or any ACME CA) validated with HTTP-01 from inside the cluster, the way
// cert-manager's ingress solver does it, built from the library's resources one by one: a key, a CSR, an Order, a
// solver that serves the Order's tokens behind the cluster's Ingress, the Certificate (once the solver is up) and
// a `kubernetes.io/tls` Secret. HTTP-01 proves each name by serving a token on port 80, so no DNS credentials are
// needed, and no wildcards are possible.
import * as pulumi from "@pulumi/pulumi";
import * as acme from "pulumi-acme-certs";

const config = new pulumi.Config();
const domains = config.requireObject<string[]>("domains");
const namespace = config.get("namespace") ?? "default";

const accountKey = new acme.PrivateKey("account-key");
const account = new acme.Registration("account", {
    accountKeyPem: accountKey.privateKeyPem,
    termsOfServiceAgreed: true,
});

// Kept across renewals; replace it (`pulumi up --replace <its URN>`) to rotate.
const key = new acme.PrivateKey("site-key");
const csr = new acme.CertificateRequest("site-csr", { privateKeyPem: key.privateKeyPem, dnsNames: domains });
const order = new acme.Order("site-order", {
    account,
    csrPem: csr.csrPem,
    dnsNames: domains,
    challengeType: "http-01",
    renewBefore: config.get("renewBefore"),
});

const solver = new acme.KubernetesHttp01Solver("site-solver", {
    order,
    namespace,
    ingressClassName: config.get("ingressClassName"),
});
// Only once the solver's Deployment has rolled out and its Ingress exists may the CA be asked to look.
const certificate = new acme.Certificate(
    "site-certificate",
    { account, order, csrPem: csr.csrPem, renewBefore: config.get("renewBefore") },
    { dependsOn: [solver] },
);

const tls = new acme.KubernetesTlsSecret("site-tls", {
    certificate: {
        fullChainPem: certificate.fullChainPem,
        privateKeyPem: key.privateKeyPem,
        dnsNames: certificate.dnsNames,
        notAfter: certificate.notAfter,
        serialNumber: certificate.serialNumber,
        issuerCommonName: certificate.issuerCommonName,
    },
    metadata: { name: config.get("secretName") ?? "site-tls", namespace },
});

export const dnsNames = certificate.dnsNames;
export const issuer = certificate.issuerCommonName;
export const serialNumber = certificate.serialNumber;
export const notAfter = certificate.notAfter;
export const renewAt = certificate.renewAt;
export const secretNamespace = tls.secret.metadata.namespace;
export const secretName = tls.secret.metadata.name;
