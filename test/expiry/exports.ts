// Realistic `pulumi stack export` documents (version 3) for the expiry tests: a stack with this library's key,
// account and certificates, their secrets stored the way Pulumi stores them (encrypted, or in plaintext as
// `--show-secrets` writes them), real certificates and a real private key, so tests can prove none of it leaks.
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

const STACK = "prod";
const PROJECT = "edge-certs";
const DYNAMIC = "pulumi-nodejs:dynamic/pulumi-acme-certs";
const SECRET_SIGNATURE = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const SERIALIZED_PROVIDER = 'exports.handler = require("pulumi-acme-certs/dist/provider.js").certificateProvider;';

export interface TestCertificate {
    certificatePem: string;
    privateKeyPem: string;
    /** Lower-case hex, as the library stores it. */
    serialNumber: string;
    notBefore: string;
    notAfter: string;
}

/** A self-signed ECDSA certificate for `dnsNames`, made with @peculiar/x509 on node:crypto's webcrypto. */
export async function makeCertificate(
    dnsNames: string[],
    validity: { notBefore: Date; notAfter: Date },
): Promise<TestCertificate> {
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await crypto.webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const serial = crypto.randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x10; // positive, and no leading zero byte
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
        {
            serialNumber: serial.toString("hex"),
            name: `CN=${dnsNames[0]}`,
            notBefore: validity.notBefore,
            notAfter: validity.notAfter,
            signingAlgorithm: algorithm,
            keys,
            extensions: [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns", value })))],
        },
        crypto.webcrypto,
    );
    const pkcs8 = await crypto.webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    const certificatePem = certificate.toString("pem");
    const parsed = new crypto.X509Certificate(certificatePem);
    return {
        certificatePem,
        privateKeyPem: crypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({
            format: "pem",
            type: "pkcs8",
        }) as string,
        serialNumber: parsed.serialNumber.toLowerCase(),
        notBefore: new Date(parsed.validFrom).toISOString(),
        notAfter: new Date(parsed.validTo).toISOString(),
    };
}

export interface CertificateInState {
    /** The resource name (last URN segment). */
    name: string;
    dnsNames: string[];
    certificate: TestCertificate;
    renewAt: string;
    /** Outputs to store secret-wrapped, as if the program had marked them secret. */
    secretOutputs?: string[];
}

export interface StackExportFixture {
    document: Record<string, unknown>;
    /** The document as `pulumi stack export` prints it. */
    text: string;
    /** The certificates' private key, held as a secret by the PrivateKey resource. */
    privateKeyPem: string;
    /** The ACME account key, held as a secret by the Account and Certificate resources. */
    accountKeyPem: string;
    /** Every ciphertext in the document (encrypted mode). */
    ciphertexts: string[];
}

/**
 * A stack with a PrivateKey, an Account and the given Certificates, plus what a real state also holds: the stack
 * and provider resources, the old copy of a replaced certificate pending deletion, and a pending create.
 */
export function stackExport(
    certificates: CertificateInState[],
    secrets: "encrypted" | "plaintext",
    privateKeyPem: string,
): StackExportFixture {
    const ciphertexts: string[] = [];
    const secret = (value: unknown) => {
        if (secrets === "plaintext") return { ...SECRET_SIGNATURE, plaintext: JSON.stringify(value) };
        const ciphertext = `v1:${crypto.randomBytes(12).toString("base64")}:${crypto.randomBytes(96).toString("base64")}`;
        ciphertexts.push(ciphertext);
        return { ...SECRET_SIGNATURE, ciphertext };
    };
    const accountKeyPem = crypto
        .generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    const time = "2026-01-01T09:30:00.000000Z";
    const stackUrn = `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${STACK}`;
    const providerUrn = `urn:pulumi:${STACK}::${PROJECT}::pulumi:providers:pulumi-nodejs::default`;
    const provider = `${providerUrn}::${crypto.randomUUID()}`;
    const urn = (kind: string, name: string) => `urn:pulumi:${STACK}::${PROJECT}::${DYNAMIC}:${kind}::${name}`;
    const dynamic = (kind: string, name: string, inputs: object, outputs: object, extra: object = {}) => ({
        urn: urn(kind, name),
        custom: true,
        id: crypto.randomUUID(),
        type: `${DYNAMIC}:${kind}`,
        inputs: { __provider: SERIALIZED_PROVIDER, ...inputs },
        outputs: { __provider: SERIALIZED_PROVIDER, ...outputs },
        parent: stackUrn,
        provider,
        propertyDependencies: {},
        created: time,
        modified: time,
        ...extra,
    });
    const keyResource = dynamic(
        "PrivateKey",
        "tls-key",
        { algorithm: "ECDSA", ecdsaCurve: "P256" },
        { algorithm: "ECDSA", ecdsaCurve: "P256", privateKeyPem: secret(privateKeyPem) },
        { additionalSecretOutputs: ["privateKeyPem"] },
    );
    const accountResource = dynamic(
        "Account",
        "letsencrypt",
        { directoryUrl: "https://acme-v02.api.letsencrypt.org/directory", accountKeyPem: secret(accountKeyPem) },
        {
            accountUrl: "https://acme-v02.api.letsencrypt.org/acme/acct/123456789",
            accountKeyPem: secret(accountKeyPem),
        },
    );
    const certificateResource = ({ name, dnsNames, certificate, renewAt, secretOutputs = [] }: CertificateInState) => {
        const plain: Record<string, unknown> = {
            dnsNames,
            serialNumber: certificate.serialNumber,
            notBefore: certificate.notBefore,
            notAfter: certificate.notAfter,
            renewAt,
            certificatePem: certificate.certificatePem,
        };
        for (const field of secretOutputs) plain[field] = secret(plain[field]);
        return dynamic(
            "Certificate",
            name,
            { dnsNames, renewBefore: "30d", accountKeyPem: secret(accountKeyPem) },
            {
                ...plain,
                accountKeyPem: secret(accountKeyPem),
                orderUrl: "https://acme-v02.api.letsencrypt.org/acme/order/123456789/987654321",
            },
            { dependencies: [accountResource.urn, keyResource.urn], additionalSecretOutputs: ["accountKeyPem"] },
        );
    };
    const live = certificates.map(certificateResource);
    // A replaced certificate's old copy, expired long ago: it must not count.
    const replaced = certificateResource({
        ...certificates[0]!,
        certificate: { ...certificates[0]!.certificate, serialNumber: "01", notAfter: "2020-01-01T00:00:00.000Z" },
        renewAt: "2019-12-01T00:00:00.000Z",
    });
    const document = {
        version: 3,
        deployment: {
            manifest: { time, magic: crypto.randomBytes(32).toString("hex"), version: "v3.248.0" },
            secrets_providers: {
                type: "passphrase",
                state: {
                    salt: `v1:${crypto.randomBytes(8).toString("base64")}:v1:${crypto.randomBytes(12).toString("base64")}:x`,
                },
            },
            resources: [
                {
                    urn: stackUrn,
                    custom: false,
                    type: "pulumi:pulumi:Stack",
                    outputs: {},
                    created: time,
                    modified: time,
                },
                {
                    urn: providerUrn,
                    custom: true,
                    id: provider.split("::").at(-1),
                    type: "pulumi:providers:pulumi-nodejs",
                    inputs: {},
                    outputs: {},
                    created: time,
                    modified: time,
                },
                keyResource,
                accountResource,
                ...live,
                { ...replaced, id: crypto.randomUUID(), delete: true },
            ],
            pending_operations: [
                { resource: { ...live[0]!, urn: urn("Certificate", "being-created"), outputs: {} }, type: "creating" },
            ],
        },
    };
    return { document, text: JSON.stringify(document, null, 4), privateKeyPem, accountKeyPem, ciphertexts };
}

/** The base64 lines of a PEM block: any one of them in an output is a leak. */
export function pemBodyLines(pem: string): string[] {
    return pem.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"));
}
