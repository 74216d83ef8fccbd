import { beforeAll, describe, expect, it } from "vitest";
import { expiryReport, resourceName } from "../../provider/expiry/report";
import { type CertificateInState, makeCertificate, pemBodyLines, stackExport, type TestCertificate } from "./exports";

// A 90-day certificate renewed 30 days before it expires.
const NOT_BEFORE = "2026-01-01T00:00:00.000Z";
const RENEW_AT = "2026-03-02T00:00:00.000Z";
const NOT_AFTER = "2026-04-01T00:00:00.000Z";
const DNS_NAMES = ["www.example.com", "example.com"];
const URN = "urn:pulumi:prod::edge-certs::pulumi-nodejs:dynamic/pulumi-acme-certs:Certificate::www";

let certificate: TestCertificate;
let www: CertificateInState;

beforeAll(async () => {
    certificate = await makeCertificate(DNS_NAMES, { notBefore: new Date(NOT_BEFORE), notAfter: new Date(NOT_AFTER) });
    www = { name: "www", dnsNames: DNS_NAMES, certificate, renewAt: RENEW_AT };
});

function reportAt(now: string, certificates = [www], options: { within?: string | number } = {}) {
    const { document } = stackExport(certificates, "plaintext", certificate.privateKeyPem);
    return expiryReport(document, { now: new Date(now), ...options });
}

describe("expiryReport", () => {
    it("reports a certificate's plain fields from state, named by the last URN segment", () => {
        expect(reportAt("2026-02-01T00:00:00Z")).toStrictEqual({
            certificates: [
                {
                    urn: URN,
                    name: "www",
                    dnsNames: DNS_NAMES,
                    serialNumber: certificate.serialNumber,
                    notBefore: NOT_BEFORE,
                    notAfter: NOT_AFTER,
                    renewAt: RENEW_AT,
                    daysLeft: 59,
                    status: "ok",
                },
            ],
            dueWithin: false,
        });
    });

    it.each([
        { now: "2025-12-31T00:00:00Z", status: "ok", daysLeft: 91 },
        { now: "2026-03-01T23:59:59Z", status: "ok", daysLeft: 30 },
        { now: "2026-03-02T00:00:00Z", status: "renewal due", daysLeft: 30 },
        { now: "2026-03-15T12:00:00Z", status: "renewal due", daysLeft: 16.5 },
        { now: "2026-03-31T21:36:00Z", status: "renewal due", daysLeft: 0.1 },
        { now: "2026-04-01T00:00:00Z", status: "expired", daysLeft: 0 },
        { now: "2026-04-11T07:12:00Z", status: "expired", daysLeft: -10.3 },
    ])("at $now the certificate is $status with $daysLeft days left", ({ now, status, daysLeft }) => {
        const [reported] = reportAt(now).certificates;
        expect(reported).toMatchObject({ status, daysLeft });
    });

    it.each([
        { now: "2026-02-01T00:00:00Z", within: undefined, dueWithin: false },
        { now: "2026-02-01T00:00:00Z", within: "21d", dueWithin: false },
        { now: "2026-02-01T00:00:00Z", within: "28d23h", dueWithin: false },
        { now: "2026-02-01T00:00:00Z", within: "29d", dueWithin: true },
        { now: "2026-02-01T00:00:00Z", within: 29 * 86400, dueWithin: true },
        { now: "2026-02-01T00:00:00Z", within: 29 * 86400 - 1, dueWithin: false },
        { now: "2026-03-15T00:00:00Z", within: undefined, dueWithin: true },
        { now: "2026-04-15T00:00:00Z", within: undefined, dueWithin: true },
    ])("at $now within $within, dueWithin is $dueWithin", ({ now, within, dueWithin }) => {
        expect(reportAt(now, [www], { within }).dueWithin).toBe(dueWithin);
    });

    it("counts a certificate whose expiry comes before its renewal time as due when it expires", () => {
        const late = { ...www, renewAt: "2026-05-01T00:00:00.000Z" };
        expect(reportAt("2026-03-20T00:00:00Z", [late], { within: "11d" }).dueWithin).toBe(false);
        expect(reportAt("2026-03-20T00:00:00Z", [late], { within: "12d" }).dueWithin).toBe(true);
    });

    it("says what is wrong with within and now", () => {
        expect(() => reportAt("2026-02-01T00:00:00Z", [www], { within: "3 weeks" })).toThrow(
            'within "3 weeks" is not a duration: write a whole number with a unit d, h, m or s',
        );
        expect(() => reportAt("2026-02-01T00:00:00Z", [www], { within: -1 })).toThrow(
            "within -1 is not a number of seconds",
        );
        expect(() => expiryReport({ version: 3, deployment: {} }, { now: Number.NaN })).toThrow(
            "now is not a valid time",
        );
    });

    it("reports every live certificate once, skipping the copy pending deletion and pending operations", () => {
        const api = { ...www, name: "api", dnsNames: ["api.example.com"] };
        const { document } = stackExport([www, api], "encrypted", certificate.privateKeyPem);
        const resources = (document.deployment as { resources: { type: string; delete?: boolean }[] }).resources;
        expect(resources.filter((resource) => resource.type.endsWith(":Certificate"))).toHaveLength(3);
        expect(resources.some((resource) => resource.delete)).toBe(true);

        const report = expiryReport(document, { now: Date.parse("2026-02-01T00:00:00Z") });
        expect(report.certificates.map(({ name, status }) => [name, status])).toEqual([
            ["www", "ok"],
            ["api", "ok"],
        ]);
        expect(report.dueWithin).toBe(false);
    });

    it.each(["encrypted", "plaintext"] as const)(
        "reports a certificate whose needed outputs are %s secrets as unknown, saying why, without reading them",
        (secrets) => {
            const hidden = { ...www, secretOutputs: ["notAfter", "dnsNames"] };
            const { document } = stackExport([hidden], secrets, certificate.privateKeyPem);
            const report = expiryReport(document, { now: Date.parse("2026-02-01T00:00:00Z"), within: "90d" });
            expect(report).toStrictEqual({
                certificates: [
                    {
                        urn: URN,
                        name: "www",
                        dnsNames: [],
                        serialNumber: certificate.serialNumber,
                        notBefore: NOT_BEFORE,
                        notAfter: null,
                        renewAt: RENEW_AT,
                        daysLeft: null,
                        status: "unknown",
                        reason:
                            "output `dnsNames` is a secret in state and this report reads no secrets: make it a plain output; " +
                            "output `notAfter` is a secret in state and this report reads no secrets: make it a plain output",
                    },
                ],
                // Unknown is not "due": a gate decides what to do with it (the CLI fails on it).
                dueWithin: false,
            });
        },
    );

    it("leaves an unknown certificate out of dueWithin even when its dates are readable", () => {
        const hidden = { ...www, secretOutputs: ["dnsNames"] };
        const report = reportAt("2026-05-01T00:00:00Z", [hidden]);
        expect(report.certificates[0]).toMatchObject({ status: "unknown", notAfter: NOT_AFTER, renewAt: RENEW_AT });
        expect(report.dueWithin).toBe(false);
    });

    it("reports missing or malformed outputs as unknown without quoting them", () => {
        const { document } = stackExport([www], "plaintext", certificate.privateKeyPem);
        const resources = (document.deployment as { resources: { type: string; outputs: Record<string, unknown> }[] })
            .resources;
        const state = resources.find((resource) => resource.type.endsWith(":Certificate"))!;
        delete state.outputs.renewAt;
        state.outputs.serialNumber = "not hex: -----BEGIN PRIVATE KEY-----";
        const [reported] = expiryReport(document, { now: Date.parse("2026-02-01T00:00:00Z") }).certificates;
        expect(reported).toMatchObject({
            status: "unknown",
            serialNumber: null,
            renewAt: null,
            reason: "output `serialNumber` is not hexadecimal; output `renewAt` is missing",
        });
    });

    it("reports a stack that was never deployed as having no certificates", () => {
        const neverDeployed = { version: 3, deployment: { manifest: { time: "0001-01-01T00:00:00Z", magic: "" } } };
        expect(expiryReport(neverDeployed)).toEqual({ certificates: [], dueWithin: false });
    });

    it.each([
        { document: null, why: "expected a JSON object, found null" },
        { document: [], why: "expected a JSON object, found a list" },
        { document: "-----BEGIN PRIVATE KEY-----", why: "expected a JSON object, found a string" },
        { document: { hello: "world" }, why: "expected a `version` number and a `deployment` object at the top level" },
        { document: { version: 3 }, why: "expected a `version` number and a `deployment` object at the top level" },
        {
            document: { version: 3, deployment: { resources: {} } },
            why: "`deployment.resources` is an object, not a list",
        },
        { document: { version: 3, deployment: { resources: [{ id: "x" }] } }, why: "`deployment.resources[0]` has no" },
    ])("rejects a document that is not a stack export: $why", ({ document, why }) => {
        expect(() => expiryReport(document)).toThrow(`not a \`pulumi stack export\` document: ${why}`);
    });

    it("rejects an export version it does not read, saying what to do", () => {
        expect(() => expiryReport({ version: 4, deployment: {} })).toThrow(
            "the stack export is version 4, and this report reads version 3: export with Pulumi CLI 3.x, or upgrade",
        );
    });

    it("never copies a secret into the report or quotes the document in an error", () => {
        const fixture = stackExport([www], "plaintext", certificate.privateKeyPem);
        const encrypted = stackExport([www], "encrypted", certificate.privateKeyPem);
        const reports = [fixture, encrypted].map(({ document }) =>
            JSON.stringify(expiryReport(document, { within: "1d" })),
        );
        const secrets = [
            ...pemBodyLines(fixture.privateKeyPem),
            ...pemBodyLines(fixture.accountKeyPem),
            ...pemBodyLines(encrypted.accountKeyPem),
            ...encrypted.ciphertexts,
        ];
        expect(encrypted.ciphertexts.length).toBeGreaterThan(0);
        expect(fixture.text).toContain(pemBodyLines(fixture.privateKeyPem)[0]);
        for (const report of reports) for (const secret of secrets) expect(report).not.toContain(secret);

        const broken = { version: 3, deployment: { resources: fixture.privateKeyPem } };
        expect(() => expiryReport(broken)).toThrow("`deployment.resources` is a string, not a list");
    });
});

describe("resourceName", () => {
    it("is everything after the type, which may itself contain '::'", () => {
        expect(resourceName(URN)).toBe("www");
        expect(resourceName("urn:pulumi:prod::edge-certs::a:b:C::name::with::colons")).toBe("name::with::colons");
        expect(resourceName("not-a-urn")).toBe("not-a-urn");
    });
});
