// Helpers for the crypto tests: keys of every kind node:crypto can make, and a tiny CA that issues leaves.
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";
import { expect } from "vitest";

/** PKCS#8 PEM of a fresh key, for key types generatePrivateKey does not make (on purpose). */
export function pkcs8Pem(key: crypto.KeyObject): string {
    return key.export({ type: "pkcs8", format: "pem" }) as string;
}

export function ecKey(namedCurve: string): crypto.KeyObject {
    return crypto.generateKeyPairSync("ec", { namedCurve }).privateKey;
}

export function rsaKey(modulusLength: number): crypto.KeyObject {
    return crypto.generateKeyPairSync("rsa", { modulusLength }).privateKey;
}

/** The lines of a PEM's base64 body: the key material a message must never contain. */
function bodyLines(pem: string): string[] {
    return pem.split(/\r?\n/).filter((line) => line.length > 0 && !line.startsWith("-----") && !line.includes(":"));
}

/** Fails when `text` carries any line (or 16-character piece) of the body of `pem`. */
export function expectNoPemBody(text: string, pem: string): void {
    for (const line of bodyLines(pem)) {
        for (let start = 0; start + 16 <= line.length; start += 16) {
            expect(text).not.toContain(line.slice(start, start + 16));
        }
    }
}

/** SHA-256 of the DER inside a "PUBLIC KEY" PEM, computed from the PEM text itself (independent of keys.ts). */
export function sha256OfPemBody(pem: string): string {
    const der = Buffer.from(bodyLines(pem).join(""), "base64");
    return crypto.createHash("sha256").update(der).digest("hex");
}

const P256_SHA256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export interface TestCa {
    certificatePem: string;
    keys: crypto.webcrypto.CryptoKeyPair;
    name: string;
}

/** A self-signed CA with the common name `commonName`. */
export async function createTestCa(commonName: string): Promise<TestCa> {
    const keys = await crypto.webcrypto.subtle.generateKey(P256_SHA256, true, ["sign", "verify"]);
    const name = `CN=${commonName}, O=pulumi-acme-certs tests`;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
        {
            serialNumber: "01",
            name,
            notBefore: new Date("2020-01-01T00:00:00Z"),
            notAfter: new Date("2040-01-01T00:00:00Z"),
            signingAlgorithm: P256_SHA256,
            keys,
            extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
        },
        crypto.webcrypto,
    );
    return { certificatePem: certificate.toString("pem"), keys, name };
}

export interface LeafSpec {
    /** PKCS#8 PEM; its public key goes into the certificate. */
    privateKeyPem: string;
    serialNumber: string;
    subject: string;
    notBefore: Date;
    notAfter: Date;
    subjectAltNames: Array<{ type: "dns" | "ip" | "email" | "url"; value: string }>;
}

/** A leaf certificate for `spec`, signed by `ca`; PEM. */
export async function issueLeaf(ca: TestCa, spec: LeafSpec): Promise<string> {
    const publicKey = crypto.createPublicKey(spec.privateKeyPem);
    const spki = publicKey.export({ type: "spki", format: "der" });
    const algorithm =
        publicKey.asymmetricKeyType === "ec"
            ? { name: "ECDSA", namedCurve: curveOf(publicKey) }
            : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const leafPublicKey = await crypto.webcrypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]);
    const certificate = await x509.X509CertificateGenerator.create(
        {
            serialNumber: spec.serialNumber,
            subject: spec.subject,
            issuer: ca.name,
            notBefore: spec.notBefore,
            notAfter: spec.notAfter,
            signingAlgorithm: P256_SHA256,
            publicKey: leafPublicKey,
            signingKey: ca.keys.privateKey,
            extensions: spec.subjectAltNames.length
                ? [new x509.SubjectAlternativeNameExtension(spec.subjectAltNames)]
                : [],
        },
        crypto.webcrypto,
    );
    return certificate.toString("pem");
}

function curveOf(publicKey: crypto.KeyObject): string {
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    return curve === "secp384r1" ? "P-384" : "P-256";
}
