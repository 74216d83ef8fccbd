import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import {
    describePrivateKey,
    generatePrivateKey,
    inspectPrivateKey,
    type KeyDescription,
    type KeySpec,
    keySpecProblems,
    privateKeyObject,
    publicKeyFingerprint,
} from "../../provider/crypto/keys";
import { ecKey, expectNoPemBody, pkcs8Pem, rsaKey, sha256OfPemBody } from "./fixtures";

const CHOICE = 'use "ECDSA" (P256 or P384) or "RSA"';
const BITS = "use 2048, 3072 or 4096";

describe("keySpecProblems", () => {
    const cases: Array<[string, Parameters<typeof keySpecProblems>[0], string[]]> = [
        ["ECDSA without a curve is valid (P256 is the default)", { algorithm: "ECDSA" }, []],
        ["ECDSA P256 is valid", { algorithm: "ECDSA", ecdsaCurve: "P256" }, []],
        ["ECDSA P384 is valid", { algorithm: "ECDSA", ecdsaCurve: "P384" }, []],
        ["RSA without a size is valid (2048 is the default)", { algorithm: "RSA" }, []],
        ["RSA 2048 is valid", { algorithm: "RSA", rsaBits: 2048 }, []],
        ["RSA 3072 is valid", { algorithm: "RSA", rsaBits: 3072 }, []],
        ["RSA 4096 is valid", { algorithm: "RSA", rsaBits: 4096 }, []],
        ["null fields count as not given", { algorithm: "ECDSA", ecdsaCurve: null, rsaBits: null }, []],
        ["A missing algorithm is named", {}, [`algorithm is missing: ${CHOICE}`]],
        [
            "Ed25519 gets its own sentence about Let's Encrypt",
            { algorithm: "Ed25519" },
            [
                `algorithm "Ed25519" cannot be used: Let's Encrypt does not accept Ed25519 or Ed448 certificates; ${CHOICE}`,
            ],
        ],
        [
            "EdDSA in any case gets the same sentence",
            { algorithm: "eddsa" },
            [
                `algorithm "eddsa" cannot be used: Let's Encrypt does not accept Ed25519 or Ed448 certificates; ${CHOICE}`,
            ],
        ],
        [
            "A known algorithm in the wrong case says how to write it",
            { algorithm: "ecdsa" },
            ['algorithm "ecdsa" is not supported: write "ECDSA" (upper case)'],
        ],
        [
            "An unknown algorithm lists the choices",
            { algorithm: "DSA" },
            [`algorithm "DSA" is not supported: ${CHOICE}`],
        ],
        ["A non-string algorithm is shown as written", { algorithm: 42 }, [`algorithm 42 is not supported: ${CHOICE}`]],
        [
            "P521 is rejected with the allowed curves",
            { algorithm: "ECDSA", ecdsaCurve: "P521" },
            ['ecdsaCurve "P521" is not supported: use "P256" or "P384"'],
        ],
        [
            "P224 is rejected with the allowed curves",
            { algorithm: "ECDSA", ecdsaCurve: "P224" },
            ['ecdsaCurve "P224" is not supported: use "P256" or "P384"'],
        ],
        [
            "secp256k1 is rejected with the allowed curves",
            { algorithm: "ECDSA", ecdsaCurve: "secp256k1" },
            ['ecdsaCurve "secp256k1" is not supported: use "P256" or "P384"'],
        ],
        [
            "The NIST spelling P-256 says how to write it here",
            { algorithm: "ECDSA", ecdsaCurve: "P-256" },
            ['ecdsaCurve "P-256" is not supported: write "P256"'],
        ],
        [
            "A numeric curve is shown as written",
            { algorithm: "ECDSA", ecdsaCurve: 256 },
            ['ecdsaCurve 256 is not supported: use "P256" or "P384"'],
        ],
        ["RSA 1024 is too small", { algorithm: "RSA", rsaBits: 1024 }, [`rsaBits 1024 is too small: ${BITS}`]],
        [
            "RSA 8192 is not accepted by Let's Encrypt",
            { algorithm: "RSA", rsaBits: 8192 },
            [`rsaBits 8192 is not accepted by Let's Encrypt: ${BITS}`],
        ],
        [
            "An RSA size between the allowed ones is not supported",
            { algorithm: "RSA", rsaBits: 2500 },
            [`rsaBits 2500 is not supported: ${BITS}`],
        ],
        [
            "An RSA size given as a string must be a number",
            { algorithm: "RSA", rsaBits: "2048" },
            [`rsaBits must be a number, not "2048": ${BITS}`],
        ],
        [
            "A curve given for RSA is a sentence of its own",
            { algorithm: "RSA", ecdsaCurve: "P256" },
            ['ecdsaCurve applies only to ECDSA keys: remove it, or set algorithm to "ECDSA"'],
        ],
        [
            "An RSA size given for ECDSA is a sentence of its own",
            { algorithm: "ECDSA", rsaBits: 2048 },
            ['rsaBits applies only to RSA keys: remove it, or set algorithm to "RSA"'],
        ],
        [
            "Every problem is reported at once",
            { algorithm: "RSA", ecdsaCurve: "P384", rsaBits: 1024 },
            [
                'ecdsaCurve applies only to ECDSA keys: remove it, or set algorithm to "ECDSA"',
                `rsaBits 1024 is too small: ${BITS}`,
            ],
        ],
        [
            "A curve and a size are still checked when the algorithm is unknown",
            { algorithm: "EC", ecdsaCurve: "P521", rsaBits: 1024 },
            [
                `algorithm "EC" is not supported: ${CHOICE}`,
                'ecdsaCurve "P521" is not supported: use "P256" or "P384"',
                `rsaBits 1024 is too small: ${BITS}`,
            ],
        ],
    ];
    it.each(cases)("%s", (_name, spec, problems) => {
        expect(keySpecProblems(spec)).toEqual(problems);
    });
});

describe("generatePrivateKey", () => {
    const cases: Array<[string, KeySpec, { asymmetricKeyType: string; details: object }]> = [
        [
            "ECDSA defaults to P256",
            { algorithm: "ECDSA" },
            { asymmetricKeyType: "ec", details: { namedCurve: "prime256v1" } },
        ],
        [
            "ECDSA P384 is on secp384r1",
            { algorithm: "ECDSA", ecdsaCurve: "P384" },
            { asymmetricKeyType: "ec", details: { namedCurve: "secp384r1" } },
        ],
        [
            "RSA defaults to 2048 bits",
            { algorithm: "RSA" },
            { asymmetricKeyType: "rsa", details: { modulusLength: 2048 } },
        ],
        [
            "RSA 3072 has 3072 bits",
            { algorithm: "RSA", rsaBits: 3072 },
            { asymmetricKeyType: "rsa", details: { modulusLength: 3072 } },
        ],
        [
            "RSA 4096 has 4096 bits",
            { algorithm: "RSA", rsaBits: 4096 },
            { asymmetricKeyType: "rsa", details: { modulusLength: 4096 } },
        ],
    ];
    it.each(cases)("%s, as PKCS#8 PEM", async (_name, spec, expected) => {
        const pem = await generatePrivateKey(spec);
        expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
        const key = crypto.createPrivateKey(pem);
        expect(key.asymmetricKeyType).toBe(expected.asymmetricKeyType);
        expect(key.asymmetricKeyDetails).toMatchObject(expected.details);
    });

    it("generates a different key every time", async () => {
        const [first, second] = await Promise.all([
            generatePrivateKey({ algorithm: "ECDSA" }),
            generatePrivateKey({ algorithm: "ECDSA" }),
        ]);
        expect(first).not.toBe(second);
    });

    it("refuses an invalid spec with the problems of keySpecProblems", async () => {
        await expect(generatePrivateKey({ algorithm: "RSA", rsaBits: 1024 as 2048 })).rejects.toThrow(
            `cannot generate a private key: rsaBits 1024 is too small: ${BITS}`,
        );
    });
});

describe("inspectPrivateKey", () => {
    const p256 = ecKey("prime256v1");
    const p384 = ecKey("secp384r1");
    const rsa2048 = rsaKey(2048);
    const accepted: Array<[string, string, { algorithm: string; ecdsaCurve: string | null; rsaBits: number | null }]> =
        [
            [
                "A PKCS#8 P256 key is ECDSA P256",
                pkcs8Pem(p256),
                { algorithm: "ECDSA", ecdsaCurve: "P256", rsaBits: null },
            ],
            [
                "A SEC1 P384 key is ECDSA P384",
                p384.export({ type: "sec1", format: "pem" }) as string,
                { algorithm: "ECDSA", ecdsaCurve: "P384", rsaBits: null },
            ],
            [
                "A SEC1 key after an EC PARAMETERS block (openssl ecparam -genkey) is read",
                `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${p256.export({ type: "sec1", format: "pem" })}`,
                { algorithm: "ECDSA", ecdsaCurve: "P256", rsaBits: null },
            ],
            ["A PKCS#8 RSA key has its size", pkcs8Pem(rsa2048), { algorithm: "RSA", ecdsaCurve: null, rsaBits: 2048 }],
            [
                "A PKCS#1 RSA key is read",
                rsa2048.export({ type: "pkcs1", format: "pem" }) as string,
                { algorithm: "RSA", ecdsaCurve: null, rsaBits: 2048 },
            ],
            [
                "A key bundled after its certificate is read",
                `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n${pkcs8Pem(p256)}`,
                { algorithm: "ECDSA", ecdsaCurve: "P256", rsaBits: null },
            ],
            [
                "CRLF line ends are fine",
                pkcs8Pem(p256).replace(/\n/g, "\r\n"),
                { algorithm: "ECDSA", ecdsaCurve: "P256", rsaBits: null },
            ],
        ];
    it.each(accepted)("%s", (_name, pem, expected) => {
        const inspected = inspectPrivateKey(pem);
        expect(inspected).toEqual({ key: expect.objectContaining(expected) });
        const key = (inspected as { key: { publicKeyPem: string; publicKeyFingerprintSha256: string } }).key;
        const publicKey = crypto.createPublicKey(crypto.createPrivateKey(pem));
        expect(key.publicKeyPem).toBe(publicKey.export({ type: "spki", format: "pem" }));
        expect(key.publicKeyFingerprintSha256).toBe(sha256OfPemBody(key.publicKeyPem));
    });

    const p256Pem = pkcs8Pem(p256);
    const KEY_CHOICE = "use an ECDSA P256/P384 or an RSA (2048, 3072 or 4096 bits) key";
    const rejected: Array<[string, string, string]> = [
        [
            "An empty string is not PEM",
            "",
            "the private key is not PEM: give a PEM private key (-----BEGIN PRIVATE KEY-----)",
        ],
        [
            "Base64 without PEM armour is not PEM",
            p256Pem.split("\n").slice(1, -2).join(""),
            "the private key is not PEM: give a PEM private key (-----BEGIN PRIVATE KEY-----)",
        ],
        [
            "A truncated body does not decode",
            p256Pem
                .split("\n")
                .filter((_line, index) => index !== 1)
                .join("\n"),
            "the private key PEM does not decode: it is damaged or truncated; give the complete PEM",
        ],
        [
            "A body that is not a key does not decode",
            "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n",
            "the private key PEM does not decode: it is damaged or truncated; give the complete PEM",
        ],
        [
            "An encrypted PKCS#8 key must be decrypted first",
            p256.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }) as string,
            "the private key is encrypted: give it unencrypted (openssl pkey -in key.pem)",
        ],
        [
            "A legacy-encrypted PKCS#1 key must be decrypted first",
            rsa2048.export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }) as string,
            "the private key is encrypted: give it unencrypted (openssl pkey -in key.pem)",
        ],
        [
            "A public key is not a private key",
            crypto.createPublicKey(p256).export({ type: "spki", format: "pem" }) as string,
            "this is a public key, not a private key: give the private key PEM",
        ],
        [
            "A PKCS#1 public key is not a private key",
            crypto.createPublicKey(rsa2048).export({ type: "pkcs1", format: "pem" }) as string,
            "this is a public key, not a private key: give the private key PEM",
        ],
        [
            "A certificate is not a private key",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "this is a certificate, not a private key: give the private key PEM",
        ],
        [
            "Two private keys in one PEM are refused",
            p256Pem + pkcs8Pem(p384),
            "the PEM holds 2 private keys: give exactly one",
        ],
        [
            "An OpenSSH key must be converted",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "the private key is in OpenSSH format: convert it to PKCS#8 PEM (ssh-keygen -p -m PKCS8 -f <file>)",
        ],
        [
            "An Ed25519 key is not accepted by Let's Encrypt",
            pkcs8Pem(crypto.generateKeyPairSync("ed25519").privateKey),
            `Ed25519 keys are not accepted by Let's Encrypt: ${KEY_CHOICE}`,
        ],
        [
            "An Ed448 key is not accepted by Let's Encrypt",
            pkcs8Pem(crypto.generateKeyPairSync("ed448").privateKey),
            `Ed448 keys are not accepted by Let's Encrypt: ${KEY_CHOICE}`,
        ],
        [
            "An X25519 key cannot sign",
            pkcs8Pem(crypto.generateKeyPairSync("x25519").privateKey),
            `X25519 keys cannot sign, so they are neither account nor certificate keys: ${KEY_CHOICE}`,
        ],
        [
            "A P521 key is not accepted by Let's Encrypt",
            pkcs8Pem(ecKey("secp521r1")),
            `the EC key is on curve secp521r1, which Let's Encrypt does not accept: ${KEY_CHOICE}`,
        ],
        [
            "A secp256k1 key is not accepted by Let's Encrypt",
            pkcs8Pem(ecKey("secp256k1")),
            `the EC key is on curve secp256k1, which Let's Encrypt does not accept: ${KEY_CHOICE}`,
        ],
        ["An RSA 1024 key is too small", pkcs8Pem(rsaKey(1024)), `the RSA key has 1024 bits, too small: ${KEY_CHOICE}`],
        [
            "An RSA key of an odd size is not accepted",
            pkcs8Pem(rsaKey(2560)),
            `the RSA key has 2560 bits, a size Let's Encrypt does not accept: ${KEY_CHOICE}`,
        ],
        [
            "An RSA-PSS key is not accepted",
            pkcs8Pem(crypto.generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).privateKey),
            `RSA-PSS keys are not accepted by Let's Encrypt: ${KEY_CHOICE}`,
        ],
    ];
    it.each(rejected)("%s", (_name, pem, problem) => {
        expect(inspectPrivateKey(pem)).toEqual({ problem });
        expectNoPemBody(problem, pem);
    });
});

describe("inspectPrivateKey, privateKeyObject and publicKeyFingerprint remember their answers by PEM", () => {
    it("give the same (frozen) description, KeyObject and fingerprint for the same PEM", () => {
        const pem = pkcs8Pem(ecKey("prime256v1"));
        const description = inspectPrivateKey(pem);
        expect(inspectPrivateKey(pem)).toBe(description);
        expect(Object.isFrozen((description as { key: object }).key)).toBe(true);
        expect(privateKeyObject(pem)).toBe(privateKeyObject(pem));
        expect(publicKeyFingerprint(pem)).toBe((description as { key: KeyDescription }).key.publicKeyFingerprintSha256);
    });

    it("still tell keys apart, and refuse an unreadable one every time", () => {
        const [a, b] = [pkcs8Pem(ecKey("prime256v1")), pkcs8Pem(ecKey("prime256v1"))];
        expect(publicKeyFingerprint(a)).not.toBe(publicKeyFingerprint(b));
        expect(() => privateKeyObject("not a key")).toThrow(/not PEM/);
        expect(() => privateKeyObject("not a key")).toThrow(/not PEM/);
    });
});

describe("describePrivateKey", () => {
    it("returns what inspectPrivateKey describes", () => {
        const pem = pkcs8Pem(ecKey("prime256v1"));
        expect(describePrivateKey(pem)).toEqual((inspectPrivateKey(pem) as { key: unknown }).key);
    });

    it("throws the problem sentence, without the key", () => {
        const pem = pkcs8Pem(rsaKey(1024));
        expect(() => describePrivateKey(pem)).toThrow(/^the RSA key has 1024 bits, too small: /);
        try {
            describePrivateKey(pem);
        } catch (error) {
            expectNoPemBody(String(error), pem);
        }
    });
});

describe("publicKeyFingerprint", () => {
    const key = ecKey("prime256v1");
    const publicKeyPem = crypto.createPublicKey(key).export({ type: "spki", format: "pem" }) as string;
    const expected = sha256OfPemBody(publicKeyPem);
    const inputs: Array<[string, string]> = [
        ["A PKCS#8 private key gives its public key's fingerprint", pkcs8Pem(key)],
        ["A SEC1 private key gives the same fingerprint", key.export({ type: "sec1", format: "pem" }) as string],
        ["The public key itself gives the same fingerprint", publicKeyPem],
    ];
    it.each(inputs)("%s", (_name, pem) => {
        expect(publicKeyFingerprint(pem)).toBe(expected);
        expect(expected).toMatch(/^[0-9a-f]{64}$/);
    });

    it("differs between keys", () => {
        expect(publicKeyFingerprint(pkcs8Pem(ecKey("prime256v1")))).not.toBe(expected);
    });

    it("says what to give when nothing can be read, without echoing the input", () => {
        const encrypted = key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" });
        for (const pem of ["", "not a key", encrypted as string]) {
            expect(() => publicKeyFingerprint(pem)).toThrow(
                "no public key could be read: give an unencrypted PEM public key, private key or certificate",
            );
        }
    });
});
