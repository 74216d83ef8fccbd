import * as https from "node:https";
import * as x509 from "@peculiar/x509";
import * as acme from "acme-client";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { certificateMatchesKey, describeCertificate, splitPemChain } from "../../provider/crypto/certificate";
import { createCsr } from "../../provider/crypto/csr";
import { generatePrivateKey, publicKeyFingerprint } from "../../provider/crypto/keys";
import { DnsUpdater } from "../stack/index";
import { uniqueName } from "../stack/names";
import {
    createTestCa,
    ecKey,
    expectNoPemBody,
    issueLeaf,
    type LeafSpec,
    pkcs8Pem,
    rsaKey,
    type TestCa,
} from "./fixtures";

const stack = inject("stack");

describe("splitPemChain", () => {
    const a = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----";
    const b = "-----BEGIN CERTIFICATE-----\nQkJC\nQkJC\n-----END CERTIFICATE-----";
    const cases: Array<[string, string, string[]]> = [
        ["An empty bundle has no certificates", "", []],
        [
            "A bundle without certificate blocks has none",
            "-----BEGIN PRIVATE KEY-----\nQUFB\n-----END PRIVATE KEY-----\n",
            [],
        ],
        ["One certificate comes back with a final newline", a, [`${a}\n`]],
        ["Two certificates keep their order", `${b}\n${a}\n`, [`${b}\n`, `${a}\n`]],
        [
            "Text between and around the blocks is dropped",
            `subject=leaf\n${a}\n\nissuer: someone\n${b}\ntrailing words`,
            [`${a}\n`, `${b}\n`],
        ],
        [
            "Other blocks in the bundle are dropped",
            `${a}\n-----BEGIN PRIVATE KEY-----\nQUFB\n-----END PRIVATE KEY-----\n`,
            [`${a}\n`],
        ],
        ["Blocks with no line break between them are still two", `${a}${b}`, [`${a}\n`, `${b}\n`]],
    ];
    it.each(cases)("%s", (_name, bundle, expected) => {
        expect(splitPemChain(bundle)).toEqual(expected);
    });
});

describe("describeCertificate and certificateMatchesKey on certificates from a test CA", () => {
    let ca: TestCa;
    const keyPem = pkcs8Pem(ecKey("prime256v1"));
    const leaf = (overrides: Partial<LeafSpec> = {}) =>
        issueLeaf(ca, {
            privateKeyPem: keyPem,
            serialNumber: "0a1b2c3d",
            subject: "CN=www.example.test",
            notBefore: new Date("2027-01-01T00:00:00Z"),
            notAfter: new Date("2027-03-05T12:34:56Z"),
            subjectAltNames: [{ type: "dns", value: "www.example.test" }],
            ...overrides,
        });
    beforeAll(async () => {
        ca = await createTestCa("Crypto Test CA");
    });

    it("reads every field of a leaf", async () => {
        const pem = await leaf({
            subjectAltNames: [
                { type: "dns", value: "www.example.test" },
                { type: "ip", value: "127.0.0.1" },
                { type: "dns", value: "*.example.test" },
                { type: "email", value: "ops@example.test" },
                { type: "dns", value: "example.test" },
            ],
        });
        expect(describeCertificate(pem)).toEqual({
            serialNumber: "0a1b2c3d",
            notBefore: "2027-01-01T00:00:00.000Z",
            notAfter: "2027-03-05T12:34:56.000Z",
            dnsNames: ["www.example.test", "*.example.test", "example.test"],
            subjectCommonName: "www.example.test",
            issuerCommonName: "Crypto Test CA",
            publicKeyFingerprintSha256: publicKeyFingerprint(keyPem),
        });
    });

    const serials: Array<[string, string, string]> = [
        ["A serial with a leading zero byte keeps it", "01ab", "01ab"],
        ["A serial with the high bit set loses DER's sign byte", "8f00ff", "8f00ff"],
        [
            "A long random-looking serial is lower-case hex",
            "7FEDCBA9876543210123456789ABCDEF",
            "7fedcba9876543210123456789abcdef",
        ],
    ];
    it.each(serials)("%s", async (_name, serialNumber, expected) => {
        expect(describeCertificate(await leaf({ serialNumber })).serialNumber).toBe(expected);
    });

    const validities: Array<[string, Date, Date]> = [
        [
            "A single-digit day (padded with a space by OpenSSL) is read",
            new Date("2027-02-03T04:05:06Z"),
            new Date("2027-02-09T23:59:59Z"),
        ],
        [
            "Dates from 2050 on (GeneralizedTime) are read",
            new Date("2049-12-31T23:59:59Z"),
            new Date("2050-01-01T00:00:00Z"),
        ],
        ["A leap day is read", new Date("2028-02-29T12:00:00Z"), new Date("2028-12-31T00:00:01Z")],
    ];
    it.each(validities)("%s", async (_name, notBefore, notAfter) => {
        const description = describeCertificate(await leaf({ notBefore, notAfter }));
        expect([description.notBefore, description.notAfter]).toEqual([
            notBefore.toISOString(),
            notAfter.toISOString(),
        ]);
    });

    it("has no DNS names and no common name when the certificate carries neither", async () => {
        const description = describeCertificate(await leaf({ subject: "O=No Names", subjectAltNames: [] }));
        expect([description.dnsNames, description.subjectCommonName]).toEqual([[], null]);
    });

    it("takes the last of several common names", async () => {
        expect(describeCertificate(await leaf({ subject: "CN=first, CN=last.example.test" })).subjectCommonName).toBe(
            "last.example.test",
        );
    });

    it("does not take a DNS-looking part of another subjectAltName entry for a DNS name", async () => {
        const pem = await leaf({
            subjectAltNames: [
                { type: "url", value: "https://example.test/a,DNS:evil.example.test" },
                { type: "dns", value: "good.example.test" },
            ],
        });
        expect(describeCertificate(pem).dnsNames).toEqual(["good.example.test"]);
    });

    it("describes the first certificate of a chain", async () => {
        const pem = await leaf();
        expect(describeCertificate(`${pem}\n${ca.certificatePem}`).issuerCommonName).toBe("Crypto Test CA");
        expect(describeCertificate(`${ca.certificatePem}\n${pem}`).subjectCommonName).toBe("Crypto Test CA");
    });

    const unreadable: Array<[string, string, string]> = [
        ["An empty string", "", "no certificate found: give a PEM certificate (-----BEGIN CERTIFICATE-----)"],
        ["A private key", keyPem, "no certificate found: give a PEM certificate (-----BEGIN CERTIFICATE-----)"],
        [
            "A body that is not a certificate",
            "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
            "the certificate PEM does not decode as an X.509 certificate: give the complete PEM",
        ],
    ];
    it.each(unreadable)("%s is refused with a sentence", (_name, pem, message) => {
        expect(() => describeCertificate(pem)).toThrow(message);
    });

    it("matches the certificate's own key in any PEM encoding", async () => {
        const pem = await leaf();
        const sec1 = ecKey("prime256v1");
        expect(certificateMatchesKey(pem, keyPem)).toBe(true);
        expect(
            certificateMatchesKey(
                await leaf({ privateKeyPem: pkcs8Pem(sec1) }),
                sec1.export({ type: "sec1", format: "pem" }) as string,
            ),
        ).toBe(true);
    });

    it("does not match another EC key, nor an RSA key", async () => {
        const pem = await leaf();
        expect(certificateMatchesKey(pem, pkcs8Pem(ecKey("prime256v1")))).toBe(false);
        expect(certificateMatchesKey(pem, pkcs8Pem(rsaKey(2048)))).toBe(false);
    });

    it("refuses an unreadable key with a sentence that does not contain it", async () => {
        const pem = await leaf();
        const damaged = keyPem.replace(/\n[A-Za-z0-9+/]{8}/, "\n");
        expect(() => certificateMatchesKey(pem, damaged)).toThrow(
            "the private key PEM does not decode: it is damaged or truncated; give the complete PEM",
        );
        try {
            certificateMatchesKey(pem, damaged);
        } catch (error) {
            expectNoPemBody(String(error), damaged);
        }
    });
});

describe("describeCertificate on a certificate issued by the stack's Pebble", () => {
    it("agrees with acme-client's readCertificateInfo and with @peculiar/x509", async () => {
        acme.axios.defaults.httpsAgent = new https.Agent({ ca: stack.pebble.listenerCaPem });
        const name = uniqueName();
        const keyPem = await generatePrivateKey({ algorithm: "ECDSA" });
        const client = new acme.Client({
            directoryUrl: stack.pebble.directoryUrl,
            accountKey: await generatePrivateKey({ algorithm: "ECDSA" }),
        });
        const updater = new DnsUpdater(stack.bind);
        const chainPem = await client.auto({
            csr: await createCsr(keyPem, [name, `www.${name}`]),
            termsOfServiceAgreed: true,
            challengePriority: ["dns-01"],
            skipChallengeVerification: true,
            challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
                updater.setTxt(`_acme-challenge.${authz.identifier.value}`, [keyAuthorization]);
            },
            challengeRemoveFn: async (authz) => {
                updater.clearTxt(`_acme-challenge.${authz.identifier.value}`);
            },
        });

        const [leafPem, ...issuerPems] = splitPemChain(chainPem);
        expect(issuerPems.length).toBeGreaterThan(0);
        const description = describeCertificate(chainPem);
        const info = acme.crypto.readCertificateInfo(leafPem!);
        expect(description).toEqual({
            serialNumber: new x509.X509Certificate(leafPem!).serialNumber,
            notBefore: info.notBefore.toISOString(),
            notAfter: info.notAfter.toISOString(),
            dnsNames: info.domains.altNames,
            subjectCommonName: info.domains.commonName,
            issuerCommonName: info.issuer.commonName,
            publicKeyFingerprintSha256: publicKeyFingerprint(keyPem),
        });
        expect([...description.dnsNames].sort()).toEqual([name, `www.${name}`].sort());
        expect(description.serialNumber).toMatch(/^[0-9a-f]+$/);
        // RFC 5280 validity includes notAfter, so Pebble (like Boulder) ends it one second before the full period.
        expect(Date.parse(description.notAfter) - Date.parse(description.notBefore)).toBe(
            (stack.pebble.validitySeconds! - 1) * 1000,
        );
        expect(description.issuerCommonName).toBe(describeCertificate(issuerPems[0]!).subjectCommonName);
        expect(certificateMatchesKey(chainPem, keyPem)).toBe(true);
        expect(certificateMatchesKey(chainPem, await generatePrivateKey({ algorithm: "ECDSA" }))).toBe(false);
    });
});
