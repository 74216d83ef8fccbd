// Issued certificates: split chains, read the fields renewal and delivery need (node:crypto X509Certificate).
import { X509Certificate } from "node:crypto";
import { fingerprintOfPublicKey, privateKeyObject } from "./keys";

export interface CertificateDescription {
    /**
     * Lower-case hex, no separators, in whole bytes as `openssl x509 -serial` prints it: no leading zeros beyond
     * what the DER carries, and without the zero byte DER prepends to keep a positive number positive.
     */
    serialNumber: string;
    /** ISO 8601 (UTC). */
    notBefore: string;
    notAfter: string;
    /** DNS names of subjectAltName, in certificate order. */
    dnsNames: string[];
    subjectCommonName: string | null;
    issuerCommonName: string | null;
    publicKeyFingerprintSha256: string;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle into its certificates (order kept, anything between blocks dropped). */
export function splitPemChain(bundle: string): string[] {
    return [...bundle.matchAll(CERTIFICATE_BLOCK)].map((match) => `${match[0]}\n`);
}

/** Describes the first certificate of `pem`: the leaf, for a chain as CAs send it. Throws a sentence if there is none. */
export function describeCertificate(pem: string): CertificateDescription {
    const certificate = readCertificate(pem);
    const { subject, issuer } = certificate.toLegacyObject();
    return {
        serialNumber: certificate.serialNumber.toLowerCase(),
        notBefore: opensslTimeToIso(certificate.validFrom),
        notAfter: opensslTimeToIso(certificate.validTo),
        dnsNames: subjectAltNameEntries(certificate.subjectAltName)
            .filter((entry) => entry.type === "DNS")
            .map((entry) => entry.value),
        subjectCommonName: lastCommonName(subject),
        issuerCommonName: lastCommonName(issuer),
        publicKeyFingerprintSha256: fingerprintOfPublicKey(certificate.publicKey),
    };
}

/** Whether the certificate's public key is the private key's. */
export function certificateMatchesKey(certificatePem: string, privateKeyPem: string): boolean {
    return readCertificate(certificatePem).checkPrivateKey(privateKeyObject(privateKeyPem));
}

function readCertificate(pem: string): X509Certificate {
    const [first] = splitPemChain(pem);
    if (!first) throw new Error("no certificate found: give a PEM certificate (-----BEGIN CERTIFICATE-----)");
    try {
        return new X509Certificate(first);
    } catch {
        throw new Error("the certificate PEM does not decode as an X.509 certificate: give the complete PEM");
    }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** OpenSSL's ASN1_TIME_print format, which Node 20 uses for validFrom/validTo: "Jan  1 00:00:00 2027 GMT". */
const OPENSSL_TIME = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/;

/**
 * Node 20 has no validFromDate/validToDate (they came in Node 22), and Date.parse of this format is not
 * specified by ECMAScript, so it is read field by field.
 */
function opensslTimeToIso(time: string): string {
    const [, monthName, day, hours, minutes, seconds, year] = OPENSSL_TIME.exec(time) ?? [];
    const month = MONTHS.indexOf(monthName ?? "");
    if (month < 0) throw new Error(`the certificate's validity time ${JSON.stringify(time)} is unreadable`);
    const utc = Date.UTC(Number(year), month, Number(day), Number(hours), Number(minutes), Number(seconds));
    return new Date(utc).toISOString();
}

/** `type:value` or `type:"quoted value"`, then ", " or the end. */
const SUBJECT_ALT_NAME_ENTRY = /([^:,]+):(?:("(?:[^"\\]|\\.)*")|([^,]*))(?:, |$)/g;

/**
 * Parses X509Certificate#subjectAltName ("DNS:a.example, IP Address:127.0.0.1, DNS:b.example"). Node quotes a
 * value JSON-style when it contains a comma or quote, so that a name can never pose as a separate entry.
 */
function subjectAltNameEntries(subjectAltName: string | undefined): Array<{ type: string; value: string }> {
    const entries: Array<{ type: string; value: string }> = [];
    for (const [, type, quoted, plain] of (subjectAltName ?? "").matchAll(SUBJECT_ALT_NAME_ENTRY)) {
        entries.push({ type: type!, value: quoted !== undefined ? JSON.parse(quoted) : plain! });
    }
    return entries;
}

/** The last CN of a name (the most specific one, and the one acme-client reads); node gives several as an array. */
function lastCommonName(name: { CN?: string | string[] } | undefined): string | null {
    const commonName = name?.CN;
    return (Array.isArray(commonName) ? commonName.at(-1) : commonName) ?? null;
}
