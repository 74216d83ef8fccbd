import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { createCsr, inspectCsr } from "../../provider/crypto/csr";
import { generatePrivateKey, publicKeyFingerprint } from "../../provider/crypto/keys";
import { ecKey, expectNoPemBody, rsaKey } from "./fixtures";

/** Re-armours DER as a PEM block with 64-character lines. */
function toPem(label: string, der: Buffer): string {
    const lines = der.toString("base64").match(/.{1,64}/g)!;
    return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function derOf(pem: string): Buffer {
    return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

async function described(pem: string) {
    const inspected = await inspectCsr(pem);
    if ("problem" in inspected) throw new Error(`expected a CSR, got: ${inspected.problem}`);
    return inspected.csr;
}

describe("createCsr and inspectCsr", () => {
    const p256 = ecKey("prime256v1");
    const rsa2048 = rsaKey(2048);
    const keys: Array<[string, () => Promise<string> | string]> = [
        ["A generated ECDSA P256 key (PKCS#8)", () => generatePrivateKey({ algorithm: "ECDSA" })],
        ["A generated ECDSA P384 key (PKCS#8)", () => generatePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P384" })],
        ["An RSA 2048 key (PKCS#8)", () => rsa2048.export({ type: "pkcs8", format: "pem" }) as string],
        ["An RSA key in PKCS#1", () => rsa2048.export({ type: "pkcs1", format: "pem" }) as string],
        ["An EC key in SEC1", () => p256.export({ type: "sec1", format: "pem" }) as string],
    ];
    it.each(keys)("%s signs a CSR whose names, key and signature read back", async (_name, makeKey) => {
        const keyPem = await makeKey();
        const names = ["www.example.test", "*.example.test", "example.test"];
        const csrPem = await createCsr(keyPem, names, "example.test");
        expect(csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+-----END CERTIFICATE REQUEST-----\n?$/);
        expect(await described(csrPem)).toEqual({
            dnsNames: names,
            commonName: "example.test",
            publicKeyFingerprintSha256: publicKeyFingerprint(keyPem),
            signatureValid: true,
        });
    });

    it("leaves the subject without a CN when no commonName is given", async () => {
        const keyPem = await generatePrivateKey({ algorithm: "ECDSA" });
        const csr = await described(await createCsr(keyPem, ["b.example.test", "a.example.test"]));
        expect(csr.commonName).toBeNull();
        expect(csr.dnsNames).toEqual(["b.example.test", "a.example.test"]);
    });

    it("does not change the caller's list of names", async () => {
        const names = Object.freeze(["a.example.test", "b.example.test"]);
        await createCsr(await generatePrivateKey({ algorithm: "ECDSA" }), names, "b.example.test");
        expect(names).toEqual(["a.example.test", "b.example.test"]);
    });

    it("gives a CSR signed by key A a fingerprint that is not key B's", async () => {
        const keyA = await generatePrivateKey({ algorithm: "ECDSA" });
        const keyB = await generatePrivateKey({ algorithm: "ECDSA" });
        const csr = await described(await createCsr(keyA, ["a.example.test"]));
        expect(csr.publicKeyFingerprintSha256).toBe(publicKeyFingerprint(keyA));
        expect(csr.publicKeyFingerprintSha256).not.toBe(publicKeyFingerprint(keyB));
    });

    const tamperKeys: Array<[string, Parameters<typeof generatePrivateKey>[0]]> = [
        ["An ECDSA CSR", { algorithm: "ECDSA" }],
        ["An RSA CSR", { algorithm: "RSA" }],
    ];
    it.each(tamperKeys)("%s with one flipped signature byte has signatureValid false", async (_name, spec) => {
        const csrPem = await createCsr(await generatePrivateKey(spec), ["a.example.test"]);
        const der = derOf(csrPem);
        // The signature BIT STRING is the last field of a CertificationRequest: its last byte is signature value.
        der[der.length - 1]! ^= 0x01;
        const tampered = await described(toPem("CERTIFICATE REQUEST", der));
        expect(tampered.signatureValid).toBe(false);
        expect(tampered.dnsNames).toEqual(["a.example.test"]);
    });
});

describe("createCsr refusals", () => {
    const cases: Array<[string, string[], string | undefined, string]> = [
        ["No names at all are refused", [], undefined, "a CSR needs at least one DNS name: give dnsNames"],
        [
            "A commonName that is not among the names is refused",
            ["a.example.test"],
            "b.example.test",
            'commonName "b.example.test" is not one of dnsNames: use one of them, or leave commonName unset',
        ],
        [
            "A commonName longer than 64 characters is refused",
            [`${"a".repeat(60)}.example.test`],
            `${"a".repeat(60)}.example.test`,
            `commonName "${"a".repeat(60)}.example.test" is longer than 64 characters, the most a certificate's CN may hold: leave commonName unset (subjectAltName carries every name)`,
        ],
    ];
    it.each(cases)("%s", async (_name, names, commonName, message) => {
        const keyPem = await generatePrivateKey({ algorithm: "ECDSA" });
        await expect(createCsr(keyPem, names, commonName)).rejects.toThrow(message);
    });

    it("refuses a key it cannot read with a sentence that does not contain the key", async () => {
        const keyPem = (await generatePrivateKey({ algorithm: "ECDSA" })).replace(/\n[A-Za-z0-9+/]{8}/, "\n");
        const error = await createCsr(keyPem, ["a.example.test"]).catch((e: unknown) => e as Error);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toBe(
            "the private key PEM does not decode: it is damaged or truncated; give the complete PEM",
        );
        expectNoPemBody((error as Error).message, keyPem);
    });
});

describe("inspectCsr", () => {
    it("reads only the DNS names of a subjectAltName that also has IP and e-mail entries, in order", async () => {
        const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
        const keys = await crypto.webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
        const request = await x509.Pkcs10CertificateRequestGenerator.create(
            {
                name: "CN=first, CN=second.example.test",
                keys,
                signingAlgorithm: algorithm,
                extensions: [
                    new x509.SubjectAlternativeNameExtension([
                        { type: "dns", value: "z.example.test" },
                        { type: "ip", value: "127.0.0.1" },
                        { type: "email", value: "ops@example.test" },
                        { type: "dns", value: "a.example.test" },
                    ]),
                ],
            },
            crypto.webcrypto,
        );
        const spki = Buffer.from(await crypto.webcrypto.subtle.exportKey("spki", keys.publicKey));
        const csr = await described(request.toString("pem"));
        expect(csr).toEqual({
            dnsNames: ["z.example.test", "a.example.test"],
            commonName: "second.example.test",
            publicKeyFingerprintSha256: crypto.createHash("sha256").update(spki).digest("hex"),
            signatureValid: true,
        });
    });

    it('reads the legacy "NEW CERTIFICATE REQUEST" label', async () => {
        const csrPem = await createCsr(await generatePrivateKey({ algorithm: "ECDSA" }), ["a.example.test"]);
        const legacy = csrPem.replace(/CERTIFICATE REQUEST/g, "NEW CERTIFICATE REQUEST");
        expect((await described(legacy)).dnsNames).toEqual(["a.example.test"]);
    });

    const notPem = "the CSR is not PEM: give a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)";
    const undecodable = "the CSR PEM does not decode as a PKCS#10 certificate request: give the complete PEM";
    const malformed: Array<[string, string, string]> = [
        ["An empty string is not PEM", "", notPem],
        ["A certificate is not a CSR", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", notPem],
        [
            "A body that is not a certification request does not decode",
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n",
            undecodable,
        ],
    ];
    it.each(malformed)("%s", async (_name, pem, problem) => {
        expect(await inspectCsr(pem)).toEqual({ problem });
    });

    it("reads a CSR once: every caller gets the same frozen description", async () => {
        const csrPem = await createCsr(await generatePrivateKey({ algorithm: "ECDSA" }), ["a.example.test"]);
        const [first, second] = await Promise.all([inspectCsr(csrPem), inspectCsr(csrPem)]);
        expect(second).toBe(first);
        expect(await inspectCsr(csrPem)).toBe(first);
        expect(Object.isFrozen((first as { csr: { dnsNames: string[] } }).csr.dnsNames)).toBe(true);
    });

    it("says a truncated CSR does not decode", async () => {
        const csrPem = await createCsr(await generatePrivateKey({ algorithm: "ECDSA" }), ["a.example.test"]);
        const der = derOf(csrPem);
        expect(await inspectCsr(toPem("CERTIFICATE REQUEST", der.subarray(0, der.length - 20)))).toEqual({
            problem: undecodable,
        });
    });
});
