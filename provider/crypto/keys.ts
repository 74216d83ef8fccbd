// Private keys for accounts and certificates: generated and inspected with node:crypto (native, and the only
// choice for ECDSA: node-forge has none). Messages never contain key material.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { memoizeByText } from "./memo";

/** Key algorithms Let's Encrypt accepts for certificates and accounts. */
export type KeyAlgorithm = "ECDSA" | "RSA";
export type EcdsaCurve = "P256" | "P384";
export type RsaBits = 2048 | 3072 | 4096;

export const ECDSA_CURVES: readonly EcdsaCurve[] = ["P256", "P384"];
export const RSA_BITS: readonly RsaBits[] = [2048, 3072, 4096];

/** The curve of an ECDSA key spec that names none. */
export const DEFAULT_ECDSA_CURVE: EcdsaCurve = "P256";
/** The modulus size of an RSA key spec that names none. */
export const DEFAULT_RSA_BITS: RsaBits = 2048;

export interface KeySpec {
    algorithm: KeyAlgorithm;
    /** Only for ECDSA. @default "P256" */
    ecdsaCurve?: EcdsaCurve;
    /** Only for RSA. @default 2048 */
    rsaBits?: RsaBits;
}

/** What can be said about a private key without revealing it. */
export interface KeyDescription {
    algorithm: KeyAlgorithm;
    /** null for RSA keys. */
    ecdsaCurve: EcdsaCurve | null;
    /** null for ECDSA keys. */
    rsaBits: number | null;
    /** SubjectPublicKeyInfo, PEM. */
    publicKeyPem: string;
    /** Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (the same value for a key and its certificates). */
    publicKeyFingerprintSha256: string;
}

const ALGORITHMS: readonly KeyAlgorithm[] = ["ECDSA", "RSA"];
const ALGORITHM_CHOICE = `use "ECDSA" (P256 or P384) or "RSA"`;
const CURVE_CHOICE = `use "P256" or "P384"`;
const RSA_BITS_CHOICE = "use 2048, 3072 or 4096";
const KEY_CHOICE = "use an ECDSA P256/P384 or an RSA (2048, 3072 or 4096 bits) key";

/** Our curve names as node:crypto (OpenSSL) spells them, both ways. */
const NODE_CURVE_NAMES: Record<EcdsaCurve, string> = { P256: "prime256v1", P384: "secp384r1" };
const CURVES_BY_NODE_NAME = new Map(ECDSA_CURVES.map((curve) => [NODE_CURVE_NAMES[curve], curve]));

/**
 * Problems with a requested key spec, each a sentence saying what to change (empty when valid). Accepts loose
 * user input (`unknown` fields) because it runs in `check` on whatever the program sent.
 */
export function keySpecProblems(spec: { algorithm?: unknown; ecdsaCurve?: unknown; rsaBits?: unknown }): string[] {
    const { algorithm, ecdsaCurve, rsaBits } = spec;
    const problems: Array<string | undefined> = [algorithmProblem(algorithm)];
    if (ecdsaCurve != null) {
        problems.push(
            algorithm === "RSA"
                ? `ecdsaCurve applies only to ECDSA keys: remove it, or set algorithm to "ECDSA"`
                : curveProblem(ecdsaCurve),
        );
    }
    if (rsaBits != null) {
        problems.push(
            algorithm === "ECDSA"
                ? `rsaBits applies only to RSA keys: remove it, or set algorithm to "RSA"`
                : rsaBitsProblem(rsaBits),
        );
    }
    return problems.filter((problem) => problem !== undefined);
}

function algorithmProblem(algorithm: unknown): string | undefined {
    if (algorithm == null) return `algorithm is missing: ${ALGORITHM_CHOICE}`;
    if (ALGORITHMS.includes(algorithm as KeyAlgorithm)) return undefined;
    if (typeof algorithm === "string" && /^(ed25519|ed448|eddsa)$/i.test(algorithm)) {
        return `algorithm ${shown(algorithm)} cannot be used: Let's Encrypt does not accept Ed25519 or Ed448 certificates; ${ALGORITHM_CHOICE}`;
    }
    if (typeof algorithm === "string" && ALGORITHMS.includes(algorithm.toUpperCase() as KeyAlgorithm)) {
        return `algorithm ${shown(algorithm)} is not supported: write ${shown(algorithm.toUpperCase())} (upper case)`;
    }
    return `algorithm ${shown(algorithm)} is not supported: ${ALGORITHM_CHOICE}`;
}

function curveProblem(curve: unknown): string | undefined {
    if (ECDSA_CURVES.includes(curve as EcdsaCurve)) return undefined;
    const spelledOtherwise = typeof curve === "string" && curve.replace(/-/g, "").toUpperCase();
    if (spelledOtherwise && ECDSA_CURVES.includes(spelledOtherwise as EcdsaCurve)) {
        return `ecdsaCurve ${shown(curve)} is not supported: write ${shown(spelledOtherwise)}`;
    }
    return `ecdsaCurve ${shown(curve)} is not supported: ${CURVE_CHOICE}`;
}

function rsaBitsProblem(bits: unknown): string | undefined {
    if (RSA_BITS.includes(bits as RsaBits)) return undefined;
    if (typeof bits !== "number") return `rsaBits must be a number, not ${shown(bits)}: ${RSA_BITS_CHOICE}`;
    if (bits < RSA_BITS[0]!) return `rsaBits ${bits} is too small: ${RSA_BITS_CHOICE}`;
    if (bits > RSA_BITS.at(-1)!) return `rsaBits ${bits} is not accepted by Let's Encrypt: ${RSA_BITS_CHOICE}`;
    return `rsaBits ${bits} is not supported: ${RSA_BITS_CHOICE}`;
}

/** A user's value as it would appear in their program: strings quoted, everything else as written. */
function shown(value: unknown): string {
    return JSON.stringify(value) ?? String(value);
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generates a private key; PKCS#8 PEM. */
export async function generatePrivateKey(spec: KeySpec): Promise<string> {
    const problems = keySpecProblems(spec);
    if (problems.length > 0) throw new Error(`cannot generate a private key: ${problems.join("; ")}`);
    const { privateKey } =
        spec.algorithm === "ECDSA"
            ? await generateKeyPairAsync("ec", { namedCurve: NODE_CURVE_NAMES[spec.ecdsaCurve ?? DEFAULT_ECDSA_CURVE] })
            : await generateKeyPairAsync("rsa", { modulusLength: spec.rsaBits ?? DEFAULT_RSA_BITS });
    return privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

/**
 * What a PEM holds instead of a usable private key, by its label. A PKCS#1 key encrypted the legacy way keeps its
 * "RSA PRIVATE KEY" label and says so in a Proc-Type header instead.
 */
const NOT_A_USABLE_PRIVATE_KEY: Record<string, string> = {
    "ENCRYPTED PRIVATE KEY": "the private key is encrypted: give it unencrypted (openssl pkey -in key.pem)",
    "OPENSSH PRIVATE KEY":
        "the private key is in OpenSSH format: convert it to PKCS#8 PEM (ssh-keygen -p -m PKCS8 -f <file>)",
    "PUBLIC KEY": "this is a public key, not a private key: give the private key PEM",
    "RSA PUBLIC KEY": "this is a public key, not a private key: give the private key PEM",
    CERTIFICATE: "this is a certificate, not a private key: give the private key PEM",
    "CERTIFICATE REQUEST": "this is a certificate signing request, not a private key: give the private key PEM",
};
const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);
const LEGACY_ENCRYPTION_HEADER = /^Proc-Type:\s*4,\s*ENCRYPTED/m;
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * Parses a PEM private key of any kind node:crypto reads (PKCS#8, PKCS#1, SEC1, with or without EC PARAMETERS),
 * without judging whether Let's Encrypt would accept it. Throws an Error with a sentence that never echoes the
 * input when the text is not PEM, is encrypted, holds something other than one private key, or does not decode.
 * Remembered by PEM (the KeyObject is shared), since every step that uses a key would parse it again.
 */
export const privateKeyObject: (pem: string) => KeyObject = memoizeByText(parsePrivateKey);

function parsePrivateKey(pem: string): KeyObject {
    const labels = [...pem.matchAll(PEM_LABEL)].map((match) => match[1]!);
    if (labels.length === 0) {
        throw new Error("the private key is not PEM: give a PEM private key (-----BEGIN PRIVATE KEY-----)");
    }
    const keyCount = labels.filter((label) => PRIVATE_KEY_LABELS.has(label)).length;
    if (LEGACY_ENCRYPTION_HEADER.test(pem)) throw new Error(NOT_A_USABLE_PRIVATE_KEY["ENCRYPTED PRIVATE KEY"]);
    if (keyCount === 0) {
        const known = labels.find((label) => label in NOT_A_USABLE_PRIVATE_KEY);
        throw new Error(
            known
                ? NOT_A_USABLE_PRIVATE_KEY[known]
                : "the PEM holds no private key: give a PKCS#8 (PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY) or SEC1 (EC PRIVATE KEY) PEM",
        );
    }
    if (keyCount > 1) throw new Error(`the PEM holds ${keyCount} private keys: give exactly one`);
    try {
        return createPrivateKey(pem);
    } catch {
        // node's reason (e.g. "DECODER routines::unsupported") gives a user nothing to act on.
        throw new Error("the private key PEM does not decode: it is damaged or truncated; give the complete PEM");
    }
}

/**
 * Describes a PEM private key (PKCS#8, PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY"), or returns a problem
 * sentence when it is malformed or of a kind Let's Encrypt rejects (Ed25519, other curves, RSA < 2048).
 * Remembered by PEM, like privateKeyObject; the result is frozen.
 */
export const inspectPrivateKey: (pem: string) => { key: KeyDescription } | { problem: string } =
    memoizeByText(describeKey);

function describeKey(pem: string): { key: KeyDescription } | { problem: string } {
    let key: KeyObject;
    try {
        key = privateKeyObject(pem);
    } catch (error) {
        return { problem: (error as Error).message };
    }
    const kind = keyKind(key);
    if ("problem" in kind) return kind;
    const publicKey = createPublicKey(key);
    return {
        key: {
            ...kind,
            publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
            publicKeyFingerprintSha256: fingerprintOfPublicKey(publicKey),
        },
    };
}

/** The algorithm and size of a key Let's Encrypt accepts, or why it would not. */
function keyKind(key: KeyObject): Pick<KeyDescription, "algorithm" | "ecdsaCurve" | "rsaBits"> | { problem: string } {
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
        case "ec": {
            const curve = CURVES_BY_NODE_NAME.get(details.namedCurve ?? "");
            if (curve) return { algorithm: "ECDSA", ecdsaCurve: curve, rsaBits: null };
            return {
                problem: `the EC key is on curve ${details.namedCurve}, which Let's Encrypt does not accept: ${KEY_CHOICE}`,
            };
        }
        case "rsa": {
            const bits = details.modulusLength ?? 0;
            if (RSA_BITS.includes(bits as RsaBits)) return { algorithm: "RSA", ecdsaCurve: null, rsaBits: bits };
            const judgement = bits < RSA_BITS[0]! ? "too small" : "a size Let's Encrypt does not accept";
            return { problem: `the RSA key has ${bits} bits, ${judgement}: ${KEY_CHOICE}` };
        }
        case "x25519":
        case "x448":
            return {
                problem: `${keyTypeName(key)} keys cannot sign, so they are neither account nor certificate keys: ${KEY_CHOICE}`,
            };
        default:
            return { problem: `${keyTypeName(key)} keys are not accepted by Let's Encrypt: ${KEY_CHOICE}` };
    }
}

/** A key type as people write it: node:crypto's "ed25519", "x448", "rsa-pss" → "Ed25519", "X448", "RSA-PSS". */
function keyTypeName(key: KeyObject): string {
    const type = key.asymmetricKeyType ?? "unknown";
    return type.startsWith("ed") || type.startsWith("x") ? type[0]!.toUpperCase() + type.slice(1) : type.toUpperCase();
}

/** Like inspectPrivateKey, but throws an Error carrying the problem sentence. */
export function describePrivateKey(pem: string): KeyDescription {
    const inspected = inspectPrivateKey(pem);
    if ("problem" in inspected) throw new Error(inspected.problem);
    return inspected.key;
}

/**
 * Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo of a public key, private key or certificate PEM.
 * Remembered by PEM: every resource that talks to the CA finds its account client by the key's fingerprint.
 */
export const publicKeyFingerprint: (pem: string) => string = memoizeByText(fingerprintOfPem);

function fingerprintOfPem(pem: string): string {
    // A private key has usually been inspected already (every Check does): parsing it again costs 0.5 ms.
    const inspected = inspectPrivateKey(pem);
    if ("key" in inspected) return inspected.key.publicKeyFingerprintSha256;
    let publicKey: KeyObject;
    try {
        // createPublicKey derives the public key from a private key and reads it out of a certificate too.
        publicKey = createPublicKey(pem);
    } catch {
        throw new Error("no public key could be read: give an unencrypted PEM public key, private key or certificate");
    }
    return fingerprintOfPublicKey(publicKey);
}

/**
 * Lower-case hex SHA-256 of a public key's DER SubjectPublicKeyInfo, as node:crypto encodes it (named curve,
 * uncompressed point), so keys, CSRs and certificates carrying the same key always agree.
 */
export function fingerprintOfPublicKey(publicKey: KeyObject): string {
    return createHash("sha256")
        .update(publicKey.export({ type: "spki", format: "der" }))
        .digest("hex");
}
