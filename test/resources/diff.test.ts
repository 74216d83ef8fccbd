// Each resource's diff, as a table: what replaces, what updates in place, what is left alone, and what an unknown
// value (preview) does. Diff must be pure: these run with a fixed clock and no network at all.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as certificate from "../../provider/resources/certificate";
import * as certificateRequest from "../../provider/resources/certificateRequest";
import { UNKNOWN } from "../../provider/resources/dynamic";
import * as order from "../../provider/resources/order";
import * as privateKey from "../../provider/resources/privateKey";
import * as registration from "../../provider/resources/registration";
import { fixtureKeys } from "./fixtures";

const NOW = Date.parse("2027-03-01T00:00:00Z");
const DAY = 86400_000;
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date"] });
    vi.spyOn(console, "log").mockImplementation(() => {});
});
afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
});

const account = {
    directoryUrl: "https://acme.test/dir",
    accountUrl: "https://acme.test/acct/1",
    accountKeyPem: fixtureKeys.account,
    caCertificatesPem: null,
};

describe("PrivateKey diff", () => {
    const olds: privateKey.PrivateKeyOutputs = {
        algorithm: "ECDSA",
        ecdsaCurve: "P256",
        rsaBits: null,
        privateKeyPem: fixtureKeys.site,
        publicKeyPem: "",
        publicKeyFingerprintSha256: "f",
    };
    const cases: Array<[string, Partial<privateKey.PrivateKeyInputs>, string[]]> = [
        ["the same spec changes nothing", {}, []],
        ["another curve replaces the key", { ecdsaCurve: "P384" }, ["ecdsaCurve"]],
        [
            "another algorithm replaces the key",
            { algorithm: "RSA", ecdsaCurve: null, rsaBits: 2048 },
            ["algorithm", "ecdsaCurve", "rsaBits"],
        ],
        ["an unknown curve (preview) replaces the key", { ecdsaCurve: UNKNOWN as never }, ["ecdsaCurve"]],
    ];
    it.each(cases)("%s", async (_name, change, replaces) => {
        const news = { algorithm: olds.algorithm, ecdsaCurve: olds.ecdsaCurve, rsaBits: olds.rsaBits, ...change };
        const result = await privateKey.diff("id", olds, news);
        expect(result.replaces).toEqual(replaces);
        expect(result.changes).toBe(replaces.length > 0);
    });
});

describe("CertificateRequest diff", () => {
    const olds: certificateRequest.CertificateRequestOutputs = {
        csrPem: "csr",
        dnsNames: ["example.test", "*.example.test"],
        commonName: "example.test",
        publicKeyFingerprintSha256: fixtureKeys.siteFingerprint,
    };
    const same = { privateKeyPem: fixtureKeys.site, dnsNames: olds.dnsNames, commonName: olds.commonName };
    const cases: Array<[string, Partial<certificateRequest.CertificateRequestInputs>, string[]]> = [
        ["the same key and names change nothing", {}, []],
        ["the same key in another PEM encoding changes nothing", { privateKeyPem: fixtureKeys.siteSec1 }, []],
        ["another key replaces the CSR", { privateKeyPem: fixtureKeys.account }, ["privateKeyPem"]],
        ["another name replaces the CSR", { dnsNames: ["example.test"] }, ["dnsNames"]],
        [
            "names in another order replace the CSR (the first is the default common name)",
            { dnsNames: ["*.example.test", "example.test"] },
            ["dnsNames"],
        ],
        [
            "an unknown key (preview: the key is being replaced) replaces the CSR",
            { privateKeyPem: UNKNOWN },
            ["privateKeyPem"],
        ],
    ];
    it.each(cases)("%s", async (_name, change, replaces) => {
        const result = await certificateRequest.diff("id", olds, { ...same, ...change });
        expect(result.replaces).toEqual(replaces);
        expect(result.changes).toBe(replaces.length > 0);
    });
});

describe("Registration diff", () => {
    const olds: registration.RegistrationOutputs = {
        ...account,
        status: "valid",
        contact: ["mailto:ops@example.test"],
        email: "ops@example.test",
        accountKeyFingerprintSha256: fixtureKeys.accountFingerprint,
        termsOfServiceAgreed: true,
        externalAccountKeyId: null,
        deactivateOnDelete: false,
    };
    const same: registration.RegistrationInputs = {
        directoryUrl: olds.directoryUrl,
        accountKeyPem: fixtureKeys.account,
        email: olds.email,
        termsOfServiceAgreed: true,
        externalAccountBinding: null,
        caCertificatesPem: null,
        deactivateOnDelete: false,
    };
    const cases: Array<[string, Partial<registration.RegistrationInputs>, string[], boolean]> = [
        ["the same account changes nothing", {}, [], false],
        ["another e-mail updates the contact in place", { email: "new@example.test" }, [], true],
        ["removing the e-mail updates in place", { email: null }, [], true],
        ["another CA replaces the account", { directoryUrl: "https://other.test/dir" }, ["directoryUrl"], true],
        ["another key replaces the account", { accountKeyPem: fixtureKeys.site }, ["accountKeyPem"], true],
        ["a CA bundle is state only: updated in place", { caCertificatesPem: "pem" }, [], true],
        ["turning on deactivateOnDelete updates in place", { deactivateOnDelete: true }, [], true],
    ];
    it.each(cases)("%s", async (_name, change, replaces, changes) => {
        const result = await registration.diff("id", olds, { ...same, ...change });
        expect(result.replaces).toEqual(replaces);
        expect(result.changes).toBe(changes);
    });
});

function orderState(overrides: Partial<order.OrderOutputs> = {}): order.OrderOutputs {
    return {
        ...account,
        csrPem: "csr-1",
        challengeType: "dns-01",
        profile: null,
        renewBefore: null,
        orderUrl: "https://acme.test/order/1",
        status: "valid",
        expires: iso(NOW + 7 * DAY),
        dnsNames: ["example.test"],
        authorizations: [],
        dnsChallenges: [],
        httpChallenges: [],
        createdAt: iso(NOW - 10 * DAY),
        certificateUrl: null,
        certificateNotBefore: null,
        certificateNotAfter: null,
        renewAt: null,
        ...overrides,
    };
}

function orderInputs(state: order.OrderOutputs, overrides: Partial<order.OrderInputs> = {}): order.OrderInputs {
    const { directoryUrl, accountUrl, accountKeyPem, caCertificatesPem, csrPem, challengeType, profile, renewBefore } =
        state;
    return {
        directoryUrl,
        accountUrl,
        accountKeyPem,
        caCertificatesPem,
        csrPem,
        dnsNames: null,
        challengeType,
        profile,
        renewBefore,
        ...overrides,
    };
}

describe("Order: when a new order is placed", () => {
    const known = { certificateNotBefore: iso(NOW - 61 * DAY), certificateNotAfter: iso(NOW + 29 * DAY) };
    const cases: Array<[string, Partial<order.OrderOutputs>, Partial<order.OrderInputs>, RegExp | null]> = [
        [
            "nothing changed and the certificate is not due: no new order",
            { ...known, certificateNotBefore: iso(NOW - 10 * DAY), certificateNotAfter: iso(NOW + 80 * DAY) },
            {},
            null,
        ],
        ["a 90-day certificate 61 days old is past two thirds of its life: renew", known, {}, /due for renewal/],
        [
            "renewBefore 20d moves the renewal point past now: no new order (an update of the stored point only)",
            known,
            { renewBefore: "20d" },
            null,
        ],
        ["an estimated renewal point in the past renews", { renewAt: iso(NOW - DAY) }, {}, /due for renewal/],
        [
            "an order whose certificate no refresh has seen and that has no estimate waits for the Certificate",
            {},
            {},
            null,
        ],
        ["a new CSR needs a new order", {}, { csrPem: "csr-2" }, /csrPem changed/],
        ["an unknown CSR (preview) needs a new order", {}, { csrPem: UNKNOWN }, /csrPem changed/],
        ["another challenge type needs a new order", {}, { challengeType: "http-01" }, /challengeType changed/],
        ["another profile needs a new order", {}, { profile: "shortlived" }, /profile changed/],
        ["another account needs a new order", {}, { accountUrl: "https://acme.test/acct/2" }, /accountUrl changed/],
        ["an order a refresh found invalid needs a new one", { status: "invalid" }, {}, /invalid/],
        [
            "a pending order past its expiry date waits for a refresh to find it dead (its certificate may exist)",
            { status: "pending", expires: iso(NOW - DAY) },
            {},
            null,
        ],
        [
            "a valid order past its expiry date is fine (the certificate exists)",
            { status: "valid", expires: iso(NOW - DAY) },
            {},
            null,
        ],
    ];
    it.each(cases)("%s", async (_name, state, change, reason) => {
        const olds = orderState(state);
        const reasons = order.newOrderReasons(olds, orderInputs(olds, change), NOW);
        if (reason === null) expect(reasons).toEqual([]);
        else expect(reasons.join("; ")).toMatch(reason);
        const result = await order.diff("id", olds, orderInputs(olds, change));
        // Renewal of an order is always an update in place: same resource and id, a new ACME order inside.
        expect(result.replaces).toEqual([]);
        expect(result.changes).toBe(reason !== null || change.renewBefore !== undefined);
    });

    it("a renewBefore change alone updates the stored renewal point without a new order", async () => {
        const olds = orderState({
            ...known,
            certificateNotAfter: iso(NOW + 60 * DAY),
            certificateNotBefore: iso(NOW - 30 * DAY),
        });
        const result = await order.diff("id", olds, orderInputs(olds, { renewBefore: "10d" }));
        expect(result).toMatchObject({ changes: true, replaces: [] });
        expect(order.newOrderReasons(olds, orderInputs(olds, { renewBefore: "10d" }), NOW)).toEqual([]);
    });
});

function certificateState(overrides: Partial<certificate.CertificateOutputs> = {}): certificate.CertificateOutputs {
    const notBefore = iso(NOW - 10 * DAY);
    const notAfter = iso(NOW + 80 * DAY);
    return {
        ...account,
        orderUrl: "https://acme.test/order/1",
        challengeType: "dns-01",
        dnsNames: ["example.test"],
        authorizations: [],
        dnsChallenges: [],
        csrPem: "csr-1",
        propagation: { nameservers: null, timeoutSeconds: 180, intervalSeconds: 2, skip: false },
        renewBefore: null,
        revokeOnDestroy: false,
        preferredChain: null,
        certificatePem: "leaf",
        issuerPem: "issuer",
        fullChainPem: "leafissuer",
        notBefore,
        notAfter,
        renewAt: iso(NOW + 50 * DAY),
        serialNumber: "01",
        issuerCommonName: "Pebble Intermediate",
        certificateUrl: "https://acme.test/cert/1",
        ...overrides,
    };
}

function certificateInputs(
    state: certificate.CertificateOutputs,
    overrides: Partial<certificate.CertificateInputs> = {},
): certificate.CertificateInputs {
    const inputs = Object.fromEntries(
        Object.entries(state).filter(([field]) => !(certificate.ISSUED_FIELDS as readonly string[]).includes(field)),
    );
    return { ...inputs, ...overrides } as certificate.CertificateInputs;
}

describe("Certificate diff", () => {
    const cases: Array<
        [string, Partial<certificate.CertificateOutputs>, Partial<certificate.CertificateInputs>, boolean]
    > = [
        ["an unchanged certificate before its renewal point changes nothing", {}, {}, false],
        ["a new order from its Order updates (reissues) in place", {}, { orderUrl: "https://acme.test/order/2" }, true],
        ["an unknown order (preview of a renewal) updates in place", {}, { orderUrl: UNKNOWN }, true],
        [
            "past the renewal point with the same order: reported as a change (the safety net)",
            { notBefore: iso(NOW - 70 * DAY), notAfter: iso(NOW + 20 * DAY) },
            {},
            true,
        ],
        [
            "an expired certificate is reported",
            { notBefore: iso(NOW - 95 * DAY), notAfter: iso(NOW - 5 * DAY) },
            {},
            true,
        ],
        [
            "a new renewBefore (60d, with 80 days left: not due) updates the stored renewal point in place",
            {},
            { renewBefore: "60d" },
            true,
        ],
        ["turning on revokeOnDestroy is state only", {}, { revokeOnDestroy: true }, true],
        [
            "a new propagation timeout is state only",
            {},
            { propagation: { nameservers: null, timeoutSeconds: 60, intervalSeconds: 2, skip: false } },
            true,
        ],
    ];
    it.each(cases)("%s", async (_name, state, change, changes) => {
        const olds = certificateState(state);
        const result = await certificate.diff("id", olds, certificateInputs(olds, change));
        expect(result.replaces).toEqual([]);
        expect(result.changes).toBe(changes);
    });

    it("a renewBefore as long as the certificate's lifetime fails the preview with what to change", async () => {
        const olds = certificateState();
        await expect(certificate.diff("id", olds, certificateInputs(olds, { renewBefore: "90d" }))).rejects.toThrow(
            /renewBefore 90d is not shorter than the certificate's lifetime \(90d\).*use a value below 90d/,
        );
    });

    it("prints nothing for an unchanged certificate that is not due (a preview of many stays quiet)", async () => {
        const olds = certificateState();
        await certificate.diff("id", olds, certificateInputs(olds));
        expect(vi.mocked(console.log)).not.toHaveBeenCalled();
    });

    it("says when the renewal is due once something changes", async () => {
        const olds = certificateState();
        await certificate.diff("id", olds, certificateInputs(olds, { renewBefore: "60d" }));
        expect(vi.mocked(console.log).mock.calls.flat().join("\n")).toMatch(/example\.test: renewal due at \d{4}-/);
    });

    it("says why when the renewal is due, naming the refresh that renews the order too", async () => {
        const log = vi.mocked(console.log);
        const olds = certificateState({ notBefore: iso(NOW - 70 * DAY), notAfter: iso(NOW + 20 * DAY) });
        await certificate.diff("id", olds, certificateInputs(olds));
        expect(log.mock.calls.flat().join("\n")).toMatch(
            /example\.test: expires at .*renewal was due at .*reissued from the new order its Order places.*pulumi up --refresh/,
        );
    });
});
