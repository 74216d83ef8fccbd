// Bad input, rejected before anything reaches the CA. Each case builds the resource as a program would (the
// installed package, captured under mocks, so the inputs and `__provider` are what the engine would get), sends its
// Check to Pulumi's real dynamic-provider host, and asserts the failure the engine would show: the property and a
// reason that says what to change. A proxy in front of the CA must see no request at all.
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCsr } from "../../provider/crypto/csr";
import type * as Library from "../../provider/index";
import { captureRegistrations } from "../harness/capture";
import { DynamicProviderHost, HostCallError, UNKNOWN } from "../harness/host";
import type { Registration } from "../harness/monitor";
import type { PropertyMap } from "../harness/values";
import { type CaProxy, startCaProxy } from "./support";

const stack = inject("stack");
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");
const PROJECT = "faults-bad-input";

/** The installed package, loaded by Node (vitest-transformed modules cannot be serialized as providers). */
const acme = (): typeof Library => require("pulumi-acme-certs");

const pem = (key: crypto.KeyObject) => key.export({ type: "pkcs8", format: "pem" }) as string;
const keys = {
    account: pem(crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    site: pem(crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    rsa1024: pem(crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey),
    ed25519: pem(crypto.generateKeyPairSync("ed25519").privateKey),
    p521: pem(crypto.generateKeyPairSync("ec", { namedCurve: "secp521r1" }).privateKey),
    secp256k1: pem(crypto.generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey),
};
const publicKeyPem = crypto.createPublicKey(keys.site).export({ type: "spki", format: "pem" }) as string;

/** Every base64 line of every key above: no failure reason may contain any of them. */
const keyLines = Object.values(keys).flatMap((text) =>
    text.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----")),
);

let proxy: CaProxy;
let host: DynamicProviderHost;
let csr: { plain: string; wildcard: string; tampered: string };

beforeAll(async () => {
    proxy = await startCaProxy(stack.pebble);
    host = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
    await host.configure({});
    const plain = await createCsr(keys.site, ["site.example.test"]);
    csr = {
        plain,
        wildcard: await createCsr(keys.site, ["w.example.test", "*.w.example.test"]),
        tampered: tamperSignature(plain),
    };
});
afterAll(async () => {
    await host?.stop();
    await proxy?.stop();
});

/** The same CSR with the last byte of its signature changed: well formed, but not signed by its key any more. */
function tamperSignature(csrPem: string): string {
    const body = csrPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const der = Buffer.from(body, "base64");
    der[der.length - 1] ^= 0x01;
    const lines = der.toString("base64").match(/.{1,64}/g)!;
    return ["-----BEGIN CERTIFICATE REQUEST-----", ...lines, "-----END CERTIFICATE REQUEST-----", ""].join("\n");
}

/** The account fields an Order or Certificate gets from a Registration, pointing at the proxy. */
const account = () => ({
    directoryUrl: proxy.directoryUrl,
    accountUrl: `${new URL(proxy.directoryUrl).origin}/my-account/1`,
    accountKeyPem: keys.account,
    caCertificatesPem: proxy.caPem,
});

const registration = (args: Partial<Library.RegistrationArgs>) => (lib: typeof Library) =>
    new lib.Registration("resource", {
        directoryUrl: proxy.directoryUrl,
        caCertificatesPem: proxy.caPem,
        accountKeyPem: keys.account,
        termsOfServiceAgreed: true,
        ...args,
    });

const names = (dnsNames: string[], commonName?: string) => (lib: typeof Library) =>
    new lib.CertificateRequest("resource", { privateKeyPem: keys.site, dnsNames, commonName });

const siteKey = (privateKeyPem: string) => (lib: typeof Library) =>
    new lib.CertificateRequest("resource", { privateKeyPem, dnsNames: ["site.example.test"] });

const privateKey = (args: Record<string, unknown>) => (lib: typeof Library) =>
    new lib.PrivateKey("resource", args as Library.PrivateKeyArgs);

const order = (args: Partial<Library.OrderArgs>) => (lib: typeof Library) =>
    new lib.Order("resource", { account: account(), csrPem: csr.plain, ...args });

const certificate = (args: Partial<Library.CertificateArgs>, dnsNames = ["site.example.test"]) => {
    return (lib: typeof Library) =>
        new lib.Certificate("resource", {
            account: account(),
            order: {
                orderUrl: `${new URL(proxy.directoryUrl).origin}/my-order/1`,
                challengeType: "dns-01",
                dnsNames,
                authorizations: [],
                dnsChallenges: [],
            },
            csrPem: csr.plain,
            ...args,
        });
};

/** Builds one resource as a program would and returns its registration (inputs in wire form, `__provider`). */
async function registered(build: (lib: typeof Library) => unknown): Promise<Registration> {
    const capture = await captureRegistrations(() => void build(acme()), { project: PROJECT });
    return capture.find("resource");
}

async function checked(build: (lib: typeof Library) => unknown) {
    const resource = await registered(build);
    return host.check(resource.urn, {}, resource.inputs);
}

type Build = (lib: typeof Library) => unknown;

/** [case, resource, property, what the reason must say] */
const rejected: Array<[string, () => Build, string, RegExp]> = [
    // Names (CertificateRequest; an Order's own dnsNames go through the same rules).
    ["An empty list of names is rejected", () => names([]), "dnsNames", /no names given: list at least one/],
    ["An empty name is rejected", () => names(["site.example.test", ""]), "dnsNames", /"" is empty: give a DNS name/],
    [
        "Names that are the same after normalisation are rejected, naming both spellings",
        () => names(["Site.Example.TEST", "site.example.test."]),
        "dnsNames",
        /"Site\.Example\.TEST" and "site\.example\.test\." are the same name after normalisation \(site\.example\.test\): list it once/,
    ],
    [
        "A label with an underscore is rejected",
        () => names(["my_site.example.test"]),
        "dnsNames",
        /underscores are not allowed in certificate names, use a hyphen or remove it/,
    ],
    [
        "A label that starts with a hyphen is rejected",
        () => names(["-site.example.test"]),
        "dnsNames",
        /may not start or end with a hyphen/,
    ],
    [
        "A label of 64 characters is rejected",
        () => names([`${"a".repeat(64)}.example.test`]),
        "dnsNames",
        /has a label of 64 characters: a label may have at most 63/,
    ],
    [
        "A name of more than 253 characters is rejected",
        () => names([`${Array.from({ length: 5 }, () => "b".repeat(60)).join(".")}.example.test`]),
        "dnsNames",
        /is \d+ characters long: a DNS name may have at most 253/,
    ],
    [
        "More than 100 names are rejected, suggesting to split them",
        () => names(Array.from({ length: 101 }, (_, i) => `n${i}.example.test`)),
        "dnsNames",
        /101 names given, but a certificate may hold at most 100: split them across several certificates/,
    ],
    [
        "An IPv4 address is rejected",
        () => names(["192.0.2.10"]),
        "dnsNames",
        /"192\.0\.2\.10" is an IP address; IP address identifiers are not supported: use a DNS name/,
    ],
    ["An IPv6 address is rejected", () => names(["2001:db8::10"]), "dnsNames", /is an IP address/],
    [
        "A wildcard that is not the leftmost label is rejected",
        () => names(["www.*.example.test"]),
        "dnsNames",
        /a wildcard must be the whole leftmost label, e.g\. \*\.example\.com/,
    ],
    [
        "A wildcard that is only part of a label is rejected",
        () => names(["w*.example.test"]),
        "dnsNames",
        /a wildcard must be the whole leftmost label/,
    ],
    [
        "A URL is rejected, suggesting its host",
        () => names(["https://site.example.test/path"]),
        "dnsNames",
        /is not a bare host name: leave out the scheme, port and path, e.g\. "site\.example\.test"/,
    ],
    [
        "A single-label name is rejected",
        () => names(["intranet"]),
        "dnsNames",
        /single-label name: public CAs reject those, give a fully qualified name/,
    ],
    [
        "A common name that is not one of the names is rejected",
        () => names(["site.example.test"], "other.example.test"),
        "commonName",
        /is not one of dnsNames: add it to dnsNames or leave commonName unset/,
    ],
    // Keys given to a CertificateRequest (or a Registration).
    [
        "An RSA key of 1024 bits is rejected",
        () => siteKey(keys.rsa1024),
        "privateKeyPem",
        /the RSA key has 1024 bits, too small: use an ECDSA P256\/P384 or an RSA \(2048, 3072 or 4096 bits\) key/,
    ],
    [
        "An Ed25519 key is rejected",
        () => siteKey(keys.ed25519),
        "privateKeyPem",
        /Ed25519 keys are not accepted by Let's Encrypt: use an ECDSA/,
    ],
    [
        "An EC key on P-521 is rejected",
        () => siteKey(keys.p521),
        "privateKeyPem",
        /on curve secp521r1, which Let's Encrypt does not accept: use an ECDSA P256\/P384/,
    ],
    [
        "An EC key on secp256k1 is rejected",
        () => siteKey(keys.secp256k1),
        "privateKeyPem",
        /on curve secp256k1, which Let's Encrypt does not accept/,
    ],
    [
        "A damaged private key PEM is rejected",
        () => siteKey(keys.site.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!")),
        "privateKeyPem",
        /does not decode: it is damaged or truncated; give the complete PEM/,
    ],
    [
        "Text that is not PEM is rejected as a key",
        () => siteKey("just some text"),
        "privateKeyPem",
        /is not PEM: give a PEM private key/,
    ],
    [
        "A CertificateRequest without a key is rejected, pointing at PrivateKey",
        () => siteKey(undefined as unknown as string),
        "privateKeyPem",
        /privateKeyPem is required: pass the privateKeyPem output of a PrivateKey/,
    ],
    [
        "A public key is rejected where the private key is needed",
        () => siteKey(publicKeyPem),
        "privateKeyPem",
        /this is a public key, not a private key: give the private key PEM/,
    ],
    [
        "An account key of 1024 RSA bits is rejected by the Registration",
        () => registration({ accountKeyPem: keys.rsa1024 }),
        "accountKeyPem",
        /the RSA key has 1024 bits, too small/,
    ],
    // Keys to generate.
    [
        "rsaBits 1024 is rejected",
        () => privateKey({ algorithm: "RSA", rsaBits: 1024 }),
        "rsaBits",
        /rsaBits 1024 is too small: use 2048, 3072 or 4096/,
    ],
    [
        "The curve P521 is rejected",
        () => privateKey({ algorithm: "ECDSA", ecdsaCurve: "P521" }),
        "ecdsaCurve",
        /ecdsaCurve "P521" is not supported: use "P256" or "P384"/,
    ],
    [
        "The curve spelled P-384 is rejected, with the spelling to use",
        () => privateKey({ algorithm: "ECDSA", ecdsaCurve: "P-384" }),
        "ecdsaCurve",
        /ecdsaCurve "P-384" is not supported: write "P384"/,
    ],
    [
        "Ed25519 is rejected as an algorithm",
        () => privateKey({ algorithm: "Ed25519" }),
        "algorithm",
        /Let's Encrypt does not accept Ed25519 or Ed448 certificates; use "ECDSA" \(P256 or P384\) or "RSA"/,
    ],
    [
        "rsaBits on an ECDSA key is rejected",
        () => privateKey({ algorithm: "ECDSA", rsaBits: 2048 }),
        "rsaBits",
        /rsaBits applies only to RSA keys: remove it, or set algorithm to "RSA"/,
    ],
    // CSRs given to an Order (or a Certificate).
    [
        "A wildcard ordered over HTTP-01 is rejected",
        () => order({ csrPem: csr.wildcard, challengeType: "http-01" }),
        "challengeType",
        /\*\.w\.example\.test is a wildcard, which only dns-01 can validate: use challengeType "dns-01"/,
    ],
    [
        "A CSR whose names differ from the Order's is rejected",
        () => order({ dnsNames: ["other.example.test"] }),
        "csrPem",
        /the CSR's names \[site\.example\.test\] differ from the order's \[other\.example\.test\]: give the Order and the Certificate the CertificateRequest made for these names/,
    ],
    [
        "A CSR whose names differ from the Certificate's order is rejected",
        () => certificate({}, ["other.example.test"]),
        "csrPem",
        /differ from the order's \[other\.example\.test\]/,
    ],
    [
        "A CSR whose signature does not verify (tampered) is rejected",
        () => order({ csrPem: csr.tampered }),
        "csrPem",
        /signature does not verify with the public key it carries: .*build it with a CertificateRequest/,
    ],
    [
        "A malformed CSR PEM is rejected",
        () => order({ csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nnot*base64\n-----END CERTIFICATE REQUEST-----\n" }),
        "csrPem",
        /does not decode as a PKCS#10 certificate request: give the complete PEM/,
    ],
    [
        "An Order without a CSR is rejected, pointing at CertificateRequest",
        () => order({ csrPem: undefined as unknown as string }),
        "csrPem",
        /csrPem is required: pass the csrPem output of a CertificateRequest/,
    ],
    [
        "A Certificate without an order is rejected",
        () => (lib: typeof Library) =>
            new lib.Certificate("resource", {
                account: account(),
                order: {} as Library.OrderReference,
                csrPem: csr.plain,
            }),
        "order",
        /order is required: pass the Order this certificate finalizes/,
    ],
    [
        "Something that is not a CSR is rejected as one",
        () => order({ csrPem: keys.site }),
        "csrPem",
        /the CSR is not PEM: give a PEM certificate signing request/,
    ],
    [
        "An unsupported challenge type is rejected",
        () => order({ challengeType: "tls-alpn-01" as Library.ChallengeType }),
        "challengeType",
        /"tls-alpn-01" is not supported: use "dns-01" or "http-01"/,
    ],
    [
        "A renewBefore that is not a duration is rejected",
        () => order({ renewBefore: "soon" }),
        "renewBefore",
        /renewBefore: .*e\.g\./,
    ],
    [
        "An Order without an account URL is rejected, pointing at Registration",
        () => order({ account: { ...account(), accountUrl: "" } }),
        "accountUrl",
        /accountUrl is required: pass a Registration as `account`/,
    ],
    // Accounts.
    [
        "termsOfServiceAgreed false is rejected",
        () => registration({ termsOfServiceAgreed: false }),
        "termsOfServiceAgreed",
        /termsOfServiceAgreed must be true: read the CA's terms of service .* and set termsOfServiceAgreed: true/,
    ],
    [
        "An invalid email is rejected",
        () => registration({ email: "ops-at-example.test" }),
        "email",
        /"ops-at-example\.test" is not an e-mail address: give one like ops@example\.com, or leave it unset/,
    ],
    [
        "A plain-http directory URL is rejected without a CA bundle",
        () => registration({ directoryUrl: "http://acme.example.test/directory", caCertificatesPem: undefined }),
        "directoryUrl",
        /must use https \(ACME requires TLS\); plain http is only accepted for a private or test CA given with caCertificatesPem/,
    ],
    [
        "A directory URL that is not a URL is rejected",
        () => registration({ directoryUrl: "acme.example.test/directory" }),
        "directoryUrl",
        /is not a URL: give the CA's ACME directory URL/,
    ],
    [
        "A missing directory URL is rejected, pointing at the config key",
        () => registration({ directoryUrl: undefined }),
        "directoryUrl",
        /directoryUrl is required: .*pulumi config set acme:directoryUrl/,
    ],
    [
        "A Registration without an account key is rejected, pointing at PrivateKey",
        () => registration({ accountKeyPem: undefined as unknown as string }),
        "accountKeyPem",
        /accountKeyPem is required: pass the privateKeyPem output of a PrivateKey/,
    ],
    [
        "A CA bundle that holds no certificate is rejected",
        () => registration({ caCertificatesPem: "not a certificate" }),
        "caCertificatesPem",
        /holds no PEM certificate: give the CA's certificate\(s\) in PEM/,
    ],
    [
        "An EAB HMAC key that is not base64url is rejected without echoing it",
        () => registration({ externalAccountBinding: { keyId: "kid-1", hmacKey: "s3cret/with+slashes==" } }),
        "externalAccountBinding",
        /hmacKey must be the base64url HMAC key your CA gave you \(letters, digits, - and _\)$/,
    ],
    // Certificates.
    [
        "A propagation timeout of zero is rejected",
        () => certificate({ propagation: { timeoutSeconds: 0 } }),
        "propagation",
        /propagation\.timeoutSeconds must be a positive number of seconds, e\.g\. 180/,
    ],
    [
        "A negative propagation timeout is rejected",
        () => certificate({ propagation: { timeoutSeconds: -30 } }),
        "propagation",
        /propagation\.timeoutSeconds must be a positive number of seconds/,
    ],
    [
        "A zero propagation interval is rejected",
        () => certificate({ propagation: { intervalSeconds: 0 } }),
        "propagation",
        /propagation\.intervalSeconds must be a positive number of seconds, e\.g\. 2/,
    ],
    [
        "A propagation interval longer than the timeout is rejected",
        () => certificate({ propagation: { timeoutSeconds: 10, intervalSeconds: 30 } }),
        "propagation",
        /propagation\.intervalSeconds must not exceed propagation\.timeoutSeconds/,
    ],
    [
        "An empty list of nameservers is rejected",
        () => certificate({ propagation: { nameservers: [] } }),
        "propagation",
        /propagation\.nameservers must be a non-empty list like/,
    ],
    [
        "A nameserver that is not host or host:port is rejected",
        () => certificate({ propagation: { nameservers: ["dns://ns1.example.test"] } }),
        "propagation",
        /propagation\.nameservers: "dns:\/\/ns1\.example\.test" is not host or host:port/,
    ],
    [
        "revokeOnDestroy that is not a boolean is rejected",
        () => certificate({ revokeOnDestroy: "yes" as unknown as boolean }),
        "revokeOnDestroy",
        /revokeOnDestroy must be true or false/,
    ],
];

describe("bad input is rejected by check, through the real provider host, with what to change", () => {
    it.each(rejected)("%s", async (_case, build, property, reason) => {
        const { failures } = await checked(build());
        expect(failures.map((failure) => failure.property)).toContain(property);
        const failure = failures.find((candidate) => candidate.property === property)!;
        expect(failure.reason).toMatch(reason);
        for (const line of keyLines) expect(failure.reason).not.toContain(line);
    });

    it(`covers at least 25 kinds of bad input (${rejected.length})`, () => {
        expect(rejected.length).toBeGreaterThanOrEqual(25);
    });
});

describe("input written as users write it is accepted and normalised", () => {
    it.each([
        ["Upper case is lowered", ["WWW.Site.Example.TEST"], ["www.site.example.test"]],
        ["A trailing dot is removed", ["site.example.test."], ["site.example.test"]],
        ["An IDN becomes its A-label form", ["Bücher.example.test"], ["xn--bcher-kva.example.test"]],
        [
            "A wildcard and its apex are kept in order",
            ["*.Site.example.test", "site.example.test"],
            ["*.site.example.test", "site.example.test"],
        ],
    ])("%s", async (_case, given, normalised) => {
        const { inputs, failures } = await checked(names(given));
        expect(failures).toEqual([]);
        expect(inputs.dnsNames).toEqual(normalised);
    });

    it("A plain-http directory URL is accepted for a test CA given with its CA bundle", async () => {
        const directoryUrl = proxy.directoryUrl.replace("https:", "http:");
        const { inputs, failures } = await checked(registration({ directoryUrl }));
        expect(failures).toEqual([]);
        expect(inputs.directoryUrl).toBe(directoryUrl);
    });
});

describe("bad input found later than check", () => {
    it("A renewBefore not shorter than the certificate's lifetime fails the Certificate's diff (the preview)", async () => {
        const resource = await registered(certificate({ renewBefore: "90d" }));
        const { inputs, failures } = await host.check(resource.urn, {}, resource.inputs);
        expect(failures).toEqual([]);
        // The stored outputs of a 90-day certificate: all that diff reads is in state, so no CA is asked.
        const olds: PropertyMap = {
            ...inputs,
            certificatePem: "",
            notBefore: "2026-01-01T00:00:00.000Z",
            notAfter: "2026-04-01T00:00:00.000Z",
            renewAt: "2026-03-02T00:00:00.000Z",
        };
        const preview = host.diff("certificate-id", resource.urn, olds, inputs, inputs);
        const error = await preview.then(
            () => new Error("expected the diff to fail"),
            (failure: unknown) => failure,
        );
        expect(error).toBeInstanceOf(HostCallError);
        expect((error as Error).message).toMatch(
            /site\.example\.test: renewBefore 90d is not shorter than the certificate's lifetime \(90d\), so it would renew on every run: use a value below 90d, e\.g\. "30d", or leave renewBefore unset/,
        );
    });

    it("The same renewBefore fails the Certificate's diff while its Order changes too (a new order URL, unknown in the preview)", async () => {
        const resource = await registered(certificate({ renewBefore: "90d" }));
        const { inputs } = await host.check(resource.urn, {}, resource.inputs);
        const olds: PropertyMap = {
            ...inputs,
            notBefore: "2026-01-01T00:00:00.000Z",
            notAfter: "2026-04-01T00:00:00.000Z",
        };
        const news: PropertyMap = { ...inputs, orderUrl: UNKNOWN };
        await expect(host.diff("certificate-id", resource.urn, olds, news, inputs)).rejects.toThrow(
            /renewBefore 90d is not shorter than the certificate's lifetime \(90d\)/,
        );
    });

    it("A renewBefore not shorter than the certificate's lifetime fails the Order's diff once a refresh has seen its certificate", async () => {
        const resource = await registered(order({ renewBefore: "120d" }));
        const { inputs, failures } = await host.check(resource.urn, {}, resource.inputs);
        expect(failures).toEqual([]);
        // An order whose 90-day certificate a refresh has read: without the guard it would be renewed on every run.
        const olds: PropertyMap = {
            ...inputs,
            renewBefore: null,
            orderUrl: `${new URL(proxy.directoryUrl).origin}/my-order/1`,
            status: "valid",
            expires: null,
            dnsNames: ["site.example.test"],
            authorizations: [],
            dnsChallenges: [],
            httpChallenges: [],
            createdAt: "2026-01-01T00:00:00.000Z",
            certificateUrl: `${new URL(proxy.directoryUrl).origin}/certZ/1`,
            certificateNotBefore: "2026-01-01T00:00:00.000Z",
            certificateNotAfter: "2026-04-01T00:00:00.000Z",
            renewAt: "2026-03-02T00:00:00.000Z",
        };
        await expect(host.diff("order-id", resource.urn, olds, inputs, inputs)).rejects.toThrow(
            /site\.example\.test: renewBefore 120d is not shorter than the certificate's lifetime \(90d\), so it would renew on every run/,
        );
    });

    it.each([
        [
            "A hosted zone that covers none of the names fails the Route53ChallengeRecords at construction",
            { "example.test": "Z1EXAMPLE", "other.test": "Z2OTHER" },
            ["site.example.test"],
            /^hostedZones\["other\.test"\] covers none of the names: remove it or fix its suffix$/,
        ],
        [
            "A name that no hosted zone covers fails the Route53ChallengeRecords at construction",
            { "example.test": "Z1EXAMPLE" },
            ["site.example.test", "site.other.test"],
            /^no entry of hostedZones covers _acme-challenge\.site\.other\.test: add its zone/,
        ],
    ])("%s", async (_case, hostedZones, domains, message) => {
        let thrown: unknown;
        const capture = await captureRegistrations(
            () => {
                try {
                    new (acme().Route53ChallengeRecords)("records", {
                        order: { dnsChallenges: [] },
                        domains,
                        hostedZones,
                    });
                } catch (error) {
                    thrown = error;
                }
            },
            { project: PROJECT },
        );
        expect(pulumi.ResourceError.isInstance(thrown)).toBe(true);
        expect((thrown as Error).message).toMatch(message);
        // Nothing was planned: the component failed before creating any record.
        expect(capture.registrations.filter((r) => r.type === "aws:route53/record:Record")).toEqual([]);
    });
});

describe("the CA", () => {
    it("received no request from any of the checks above", () => {
        expect(proxy.requests).toEqual([]);
    });
});
