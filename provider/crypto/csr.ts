// Certificate signing requests (PKCS#10). Built with acme-client's createCsr and read with @peculiar/x509, both
// loaded lazily: the program process never needs them, only the provider host does.
import { createPublicKey, webcrypto } from "node:crypto";
import { fingerprintOfPublicKey, privateKeyObject } from "./keys";
import { memoizeByTextAsync } from "./memo";

export interface CsrDescription {
    /** The DNS names of the subjectAltName extension, in the CSR's order. */
    dnsNames: string[];
    commonName: string | null;
    /** Same format as crypto/keys publicKeyFingerprint: compare with the key's. */
    publicKeyFingerprintSha256: string;
    /** Whether the CSR's self-signature verifies with its own public key (proof of possession). */
    signatureValid: boolean;
}

/** RFC 5280's upper bound for a commonName; CAs reject CSRs whose CN is longer. */
const MAX_COMMON_NAME_LENGTH = 64;
const SUBJECT_ALT_NAME_OID = "2.5.29.17";
/** Old tools (Netscape, some Windows versions) write "NEW CERTIFICATE REQUEST". */
const CSR_BLOCK = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----[\s\S]*?-----END (?:NEW )?CERTIFICATE REQUEST-----/;

/**
 * Builds a CSR for `dnsNames` (all of them in subjectAltName) signed by `privateKeyPem`; PEM. `commonName`, when
 * given, must be one of `dnsNames` and at most 64 characters; certificates do not need one.
 */
export async function createCsr(
    privateKeyPem: string,
    dnsNames: readonly string[],
    commonName?: string,
): Promise<string> {
    if (dnsNames.length === 0) throw new Error("a CSR needs at least one DNS name: give dnsNames");
    if (commonName !== undefined && !dnsNames.includes(commonName)) {
        throw new Error(
            `commonName ${JSON.stringify(commonName)} is not one of dnsNames: use one of them, or leave commonName unset`,
        );
    }
    if (commonName !== undefined && commonName.length > MAX_COMMON_NAME_LENGTH) {
        throw new Error(
            `commonName ${JSON.stringify(commonName)} is longer than ${MAX_COMMON_NAME_LENGTH} characters, ` +
                "the most a certificate's CN may hold: leave commonName unset (subjectAltName carries every name)",
        );
    }
    // acme-client imports the key as PKCS#8 only; PKCS#1 and SEC1 keys are re-encoded first.
    const pkcs8Pem = privateKeyObject(privateKeyPem).export({ type: "pkcs8", format: "pem" }) as string;
    const acme: typeof import("acme-client") = require("acme-client");
    // createCsr puts the common name into data.altNames in place: give it a copy of the caller's list.
    const [, csr] = await acme.crypto.createCsr({ commonName, altNames: [...dnsNames] }, pkcs8Pem);
    return csr.toString();
}

/**
 * Reads a CSR, or returns a problem sentence when it is not a well-formed PEM CSR. Remembered by PEM (the result
 * is frozen): the Order and the Certificate read their CSR in Check and again in Create.
 */
export const inspectCsr: (pem: string) => Promise<{ csr: CsrDescription } | { problem: string }> =
    memoizeByTextAsync(readCsr);

async function readCsr(pem: string): Promise<{ csr: CsrDescription } | { problem: string }> {
    const block = CSR_BLOCK.exec(pem)?.[0];
    if (!block) {
        return {
            problem: "the CSR is not PEM: give a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)",
        };
    }
    const x509: typeof import("@peculiar/x509") = require("@peculiar/x509");
    let request: import("@peculiar/x509").Pkcs10CertificateRequest;
    let description: Omit<CsrDescription, "signatureValid">;
    try {
        request = new x509.Pkcs10CertificateRequest(block);
        const subjectAltName = request.getExtension(SUBJECT_ALT_NAME_OID);
        const altNames = subjectAltName ? new x509.SubjectAlternativeNameExtension(subjectAltName.rawData).names : null;
        const spkiDer = Buffer.from(request.publicKey.rawData);
        description = {
            dnsNames: (altNames?.items ?? []).filter((name) => name.type === "dns").map((name) => name.value),
            // The last CN is the most specific one, and the one acme-client reads.
            commonName: request.subjectName.getField("CN").pop() ?? null,
            publicKeyFingerprintSha256: fingerprintOfPublicKey(
                createPublicKey({ key: spkiDer, format: "der", type: "spki" }),
            ),
        };
    } catch {
        return { problem: "the CSR PEM does not decode as a PKCS#10 certificate request: give the complete PEM" };
    }
    // A signature that cannot even be decoded, or made with an algorithm WebCrypto lacks, does not verify either.
    const signatureValid = await request.verify(webcrypto).catch(() => false);
    return { csr: { ...description, signatureValid } };
}
