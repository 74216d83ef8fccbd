// Runs that must fail, and fail the way the engine and the real services would: a Check failure, an ACM import
// whose key does not match, a TXT record set that already exists, a provider host killed in the middle of a Create.
import * as dns from "node:dns";
import { afterEach, describe, expect, inject, it } from "vitest";
import { DnsUpdater } from "../stack/bind";
import { type FixtureStack, fixtureStack } from "./fixture-program";
import { assertSucceeded, destroy, readState, up } from "./index";

const stack = inject("stack");
const THING = "pulumi-nodejs:dynamic/fixture:Thing";

let fixture: FixtureStack | undefined;

afterEach(async () => {
    // Leave no records behind for later tests that might reuse the zone's names.
    if (fixture && readState(fixture.stateFile)) await destroy(fixture.options());
    fixture?.remove();
    fixture = undefined;
});

describe("runs that fail", () => {
    it("fails on a Check failure with the property and the provider's reason", async () => {
        fixture = await fixtureStack(stack);
        const run = await up(fixture.options({ label: "" }));
        expect(run.ok).toBe(false);
        expect(run.error).toEqual({
            urn: fixture.urn(THING, "thing"),
            message: `${fixture.urn(THING, "thing")}: property label: label must be a non-empty string`,
        });
        expect(readState(fixture.stateFile)!.resources.some((r) => r.type === THING)).toBe(false);
    });

    it("fails an ACM import whose private key does not match the certificate", async () => {
        fixture = await fixtureStack(stack);
        const run = await up(fixture.options({ privateKeyPem: fixture.certificate.otherKeyPem }));
        expect(run.ok).toBe(false);
        const urn = fixture.urn("aws:acm/certificate:Certificate", "imported");
        expect(run.error?.urn).toBe(urn);
        expect(run.error?.message).toBe(
            `${urn}: importing ACM Certificate (imported): ValidationException: ` +
                "The private key does not match the public key of certificateBody",
        );
        expect(readState(fixture.stateFile)!.resources.some((r) => r.urn === urn)).toBe(false);
    });

    it("fails to create a TXT record set that already exists, leaving it untouched", async () => {
        fixture = await fixtureStack(stack);
        const name = `_acme-challenge.${fixture.site}`;
        const updater = new DnsUpdater(stack.bind);
        updater.setTxt(name, ["someone-else"]);
        try {
            const run = await up(fixture.options());
            expect(run.ok).toBe(false);
            expect(run.error?.message).toContain(
                `Tried to create resource record set [name='${name}.', type='TXT'] but it already exists`,
            );
            const resolver = new dns.promises.Resolver();
            resolver.setServers([stack.bind.address]);
            expect(await resolver.resolveTxt(name)).toEqual([["someone-else"]]);
        } finally {
            updater.clearTxt(name);
        }
    });

    it("keeps what had completed when the provider host is killed during a Create", async () => {
        fixture = await fixtureStack(stack);
        const run = await up(
            fixture.options({ createDelayMs: 10_000 }, { killHostDuring: { type: "Thing", afterMs: 200 } }),
        );
        expect(run.ok).toBe(false);
        expect(run.error?.urn).toBe(fixture.urn(THING, "thing"));
        const state = readState(fixture.stateFile)!;
        expect(state.pendingOperations).toEqual([]);
        expect(state.resources.some((r) => r.type === THING)).toBe(false);
        // Every create the run reported is in the state file, and nothing else is.
        const created = run.steps.filter((s) => s.op === "create").map((s) => s.urn);
        expect(state.resources.map((r) => r.urn).sort()).toEqual(created.sort());

        // The next up, with a healthy host, finishes the job.
        const retry = await up(fixture.options());
        assertSucceeded(retry);
        expect(retry.steps.find((s) => s.name === "thing")?.op).toBe("create");
    });
});
