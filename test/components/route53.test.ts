// Route53ChallengeRecords and Route53Certificate under mocks: which records exist at preview, in which zones,
// with which values, under which parents, and what is rejected before anything is created.
import { describe, expect, it } from "vitest";
import { acme, answers, capture, DYNAMIC, isSecret, plain } from "./helpers";

const RECORD = "aws:route53/record:Record";
const account = {
    directoryUrl: "https://acme.test/dir",
    accountUrl: "https://acme.test/acct/1",
    accountKeyPem: "account-key",
};

/** The TXT records, by name (registrations complete in whatever order their inputs resolve). */
function records(captured: Awaited<ReturnType<typeof capture>>) {
    return captured.registrations
        .filter((r) => r.type === RECORD)
        .sort((a, b) => String(a.inputs.name).localeCompare(String(b.inputs.name)));
}

describe("Route53Certificate", () => {
    it("declares key, CSR, order, one TXT record per challenge name and a certificate that waits for the records", async () => {
        const captured = await capture(() => {
            new acme.Route53Certificate("site", {
                account,
                domains: ["Example.com.", "*.example.com", "www.other.example.com"],
                hostedZoneId: "Z1",
            });
        });
        const component = captured.find("site", "pulumi-acme-certs:index:Route53Certificate");
        for (const [name, type] of [
            ["site-key", DYNAMIC("PrivateKey")],
            ["site-csr", DYNAMIC("CertificateRequest")],
            ["site-order", DYNAMIC("Order")],
            ["site-records", "pulumi-acme-certs:index:Route53ChallengeRecords"],
            ["site-certificate", DYNAMIC("Certificate")],
        ] as const) {
            expect(captured.find(name, type).parent, `${name} is a child of the component`).toBe(component.urn);
        }
        // Apex and wildcard share one record; names are normalised.
        expect(records(captured).map((r) => r.inputs.name)).toEqual([
            "_acme-challenge.example.com",
            "_acme-challenge.www.other.example.com",
        ]);
        const apex = records(captured)[0]!;
        expect(apex.inputs).toMatchObject({ type: "TXT", zoneId: "Z1", ttl: 60 });
        expect(apex.inputs.records).toEqual(["value-for-example.com", "value-for-*.example.com"]);
        // Never written over a record set the program did not create.
        expect(apex.inputs.allowOverwrite).toBeUndefined();
        const certificate = captured.find("site-certificate");
        for (const record of records(captured)) expect(certificate.dependencies).toContain(record.urn);
        // Normalising is the Order's check's job; the component passes the domains as written.
        expect(captured.find("site-order").inputs.dnsNames).toEqual([
            "Example.com.",
            "*.example.com",
            "www.other.example.com",
        ]);
    });

    it("keeps key material secret: the key's output, the CSR's key input and the account key", async () => {
        const captured = await capture(() => {
            new acme.Route53Certificate("site", { account, domains: ["example.com"], hostedZoneId: "Z1" });
        });
        expect(captured.find("site-key").additionalSecretOutputs).toContain("privateKeyPem");
        expect(isSecret(captured.find("site-csr").inputs.privateKeyPem)).toBe(true);
        for (const name of ["site-order", "site-certificate"]) {
            expect(isSecret(captured.find(name).inputs.accountKeyPem), `${name}'s account key input`).toBe(true);
            expect(captured.find(name).additionalSecretOutputs).toContain("accountKeyPem");
        }
    });

    it("makes the key the algorithm asks for, or uses the key it is given", async () => {
        const rsa = await capture(() => {
            new acme.Route53Certificate("rsa", {
                account,
                domains: ["example.com"],
                hostedZoneId: "Z1",
                keyAlgorithm: "RSA3072",
            });
        });
        expect(plain(rsa.find("rsa-key").inputs)).toMatchObject({ algorithm: "RSA", rsaBits: 3072 });
        const own = await capture(() => {
            const key = new acme.PrivateKey("own-key", { algorithm: "ECDSA", ecdsaCurve: "P384" });
            new acme.Route53Certificate("own", { account, domains: ["example.com"], hostedZoneId: "Z1", key });
        });
        expect(own.registrations.filter((r) => r.type === DYNAMIC("PrivateKey")).map((r) => r.name)).toEqual([
            "own-key",
        ]);
    });

    it("hands the explicit AWS provider down to the records", async () => {
        const captured = await capture(async () => {
            const aws = await import("@pulumi/aws");
            const provider = new aws.Provider("aws-prod", { region: "eu-west-1" });
            new acme.Route53Certificate(
                "site",
                { account, domains: ["example.com"], hostedZoneId: "Z1" },
                { providers: { aws: provider } },
            );
        });
        const providerUrn = captured.find("aws-prod").urn;
        expect(records(captured)[0]!.provider).toMatch(new RegExp(`^${providerUrn.replace(/[$]/g, "\\$")}::`));
    });

    it.each([
        [
            "an unsupported keyAlgorithm",
            { keyAlgorithm: "P521" },
            /keyAlgorithm "P521" is not supported: use one of P256, P384, RSA2048/,
        ],
        ["both key and keyAlgorithm", { keyAlgorithm: "P256", key: {} }, /either key or keyAlgorithm/],
        [
            "both hostedZoneId and hostedZones",
            { hostedZones: { "example.com": "Z2" } },
            /either hostedZoneId or hostedZones/,
        ],
        ["an invalid domain", { domains: ["exa mple.com"] }, /domains: .*exa mple\.com/],
    ])("rejects %s before creating anything", async (_case, change, message) => {
        await expect(
            capture(() => {
                new acme.Route53Certificate("bad", {
                    account,
                    domains: ["example.com"],
                    hostedZoneId: "Z1",
                    ...(change as object),
                });
            }),
        ).rejects.toThrow(message);
    });
});

describe("Route53ChallengeRecords", () => {
    function order(dnsNames: string[]) {
        return new acme.Order("order", { account, csrPem: "csr", dnsNames });
    }

    it("finds each record's zone by the longest suffix in hostedZones", async () => {
        const captured = await capture(() => {
            new acme.Route53ChallengeRecords("records", {
                order: order(["a.example.com", "b.dev.example.com", "example.org"]),
                hostedZones: { "example.com": "ZCOM", "dev.example.com": "ZDEV", "example.org.": "ZORG" },
            });
        });
        expect(records(captured).map((r) => [r.inputs.name, r.inputs.zoneId])).toEqual([
            ["_acme-challenge.a.example.com", "ZCOM"],
            ["_acme-challenge.b.dev.example.com", "ZDEV"],
            ["_acme-challenge.example.org", "ZORG"],
        ]);
    });

    it("without zones, looks each one up with aws.route53.getZone by the longest matching suffix", async () => {
        const lookedUp: string[] = [];
        const captured = await capture(
            () => {
                new acme.Route53ChallengeRecords("records", { order: order(["deep.www.example.com"]) });
            },
            answers({
                invoke: (token, inputs) => {
                    lookedUp.push(`${token} ${String(inputs.name)} private=${String(inputs.privateZone)}`);
                    if (inputs.name === "example.com") return { zoneId: "ZFOUND", name: "example.com", id: "ZFOUND" };
                    throw new Error("not found");
                },
            }),
        );
        expect(records(captured)[0]!.inputs.zoneId).toBe("ZFOUND");
        expect(lookedUp).toEqual([
            "aws:route53/getZone:getZone deep.www.example.com private=false",
            "aws:route53/getZone:getZone www.example.com private=false",
            "aws:route53/getZone:getZone example.com private=false",
        ]);
    });

    it("writes a delegated name's TXT record at its CNAME target, in the target's zone", async () => {
        const captured = await capture(() => {
            new acme.Route53ChallengeRecords("records", {
                order: order(["example.org", "*.example.org"]),
                hostedZones: { "example.net": "ZNET" },
                delegations: { "example.org": "example.org.acme-validation.example.net" },
            });
        });
        expect(records(captured).map((r) => [r.inputs.name, r.inputs.zoneId])).toEqual([
            ["_acme-challenge.example.org.acme-validation.example.net", "ZNET"],
        ]);
        expect(records(captured)[0]!.inputs.records).toEqual(["value-for-example.org", "value-for-*.example.org"]);
    });

    it("lists every record at preview, before the order exists", async () => {
        const captured = await capture(
            () => {
                new acme.Route53ChallengeRecords("records", {
                    order: order(["example.com", "www.example.com"]),
                    hostedZoneId: "Z1",
                });
            },
            { preview: true },
        );
        expect(records(captured).map((r) => r.inputs.name)).toEqual([
            "_acme-challenge.example.com",
            "_acme-challenge.www.example.com",
        ]);
    });

    it.each([
        ["no name known at preview", { order: { dnsChallenges: [] } }, /record names must be known at preview/],
        [
            "a hosted zone that covers no name",
            { hostedZones: { "example.com": "Z1", "example.net": "Z2" } },
            /hostedZones\["example\.net"\] covers none of the names/,
        ],
        [
            "a name no hosted zone covers",
            { hostedZones: { "example.net": "Z2" } },
            /no entry of hostedZones covers _acme-challenge\.example\.com/,
        ],
        [
            "a delegation for a name not in the certificate",
            { hostedZoneId: "Z1", delegations: { "other.com": "x.example.net" } },
            /delegations\["other\.com"\] is for none of the names/,
        ],
    ])("rejects %s with what to change", async (_case, args, message) => {
        await expect(
            capture(() => {
                new acme.Route53ChallengeRecords("records", { order: order(["example.com"]), ...(args as object) });
            }),
        ).rejects.toThrow(message);
    });
});
