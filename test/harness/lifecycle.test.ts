// A whole stack's life through the harness: the fixture program (a dynamic resource from an installed package,
// Route53 records applied to BIND, a TLS Secret, an ACM import) created, left alone, updated, replaced,
// previewed, refreshed with and without drift, and destroyed. The tests run in order and share one stack.
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type FixtureStack, fixtureStack } from "./fixture-program";
import {
    assertSucceeded,
    destroy,
    exportStack,
    type HarnessRun,
    isSecretOutput,
    preview,
    readState,
    refresh,
    up,
} from "./index";

const stack = inject("stack");
const THING = "pulumi-nodejs:dynamic/fixture:Thing";
const RECORD = "harness:fixture:SiteRecords$aws:route53/record:Record";
/** A deleted record: NODATA where the zone's wildcard still covers the name, NXDOMAIN where it does not. */
const NO_SUCH_RECORD = { code: expect.stringMatching(/^(ENODATA|ENOTFOUND)$/) };

let fixture: FixtureStack;
let resolver: dns.promises.Resolver;

beforeAll(async () => {
    fixture = await fixtureStack(stack);
    resolver = new dns.promises.Resolver();
    resolver.setServers([stack.bind.address]);
});

afterAll(() => fixture?.remove());

const opsByName = (run: HarnessRun) => Object.fromEntries(run.steps.map((step) => [step.name, step.op]));
const txtValues = async () => (await resolver.resolveTxt(`_acme-challenge.${fixture.site}`)).map((v) => v.join(""));
const remoteObjects = () => fs.readdirSync(fixture.remoteDir).sort();

describe("a stack's life through the harness", () => {
    let firstThingId: string;

    it("creates everything on the first up, with the TXT values in BIND quoted once", async () => {
        const run = await up(fixture.options());
        assertSucceeded(run);
        expect(opsByName(run)).toEqual({
            "harness-fixture-dev": "create",
            site: "create",
            "site-txt": "create",
            "site-www": "create",
            thing: "create",
            tls: "create",
            imported: "create",
        });
        firstThingId = String(run.outputs.thingId);
        expect(remoteObjects()).toEqual([`${firstThingId}.json`]);
        expect(run.outputs.greeting).toBe("hello-from-config");
        expect(run.outputs.txtFqdn).toBe(`_acme-challenge.${fixture.site}`);
        expect(run.outputs.certificateArn).toMatch(/^arn:aws:acm:us-east-1:123456789012:certificate\//);
        expect(run.outputs.note).toEqual({ secret: "the-note-is-secret" });
        expect(isSecretOutput(run.outputs.token)).toBe(true);
        expect(run.diagnostics).toContainEqual({ stream: "stdout", line: `[fixture] created ${firstThingId} (first)` });

        expect((await txtValues()).sort()).toEqual([String(run.outputs.digest), "second-value"].sort());
        expect(await resolver.resolveCname(`www.${fixture.site}`)).toEqual([fixture.site]);
    });

    it("registers the provider as a short require() of the installed package", () => {
        const thing = readState(fixture.stateFile)!.resources.find((r) => r.type === THING)!;
        const provider = String(thing.inputs.__provider);
        expect(provider).toContain('require("harness-fixture-provider/dist/provider.js")');
        expect(provider.length).toBeLessThan(400);
        expect(thing.outputs.__provider).toBe(provider);
        expect(thing.parent).toBe(fixture.urn("pulumi:pulumi:Stack", "harness-fixture-dev"));
        const txt = readState(fixture.stateFile)!.resources.find((r) => r.urn === fixture.urn(RECORD, "site-txt"))!;
        expect(txt.dependencies).toEqual([fixture.urn(THING, "thing")]);
    });

    it("keeps secrets as ciphertext in the state file, never as plaintext", () => {
        const text = fs.readFileSync(fixture.stateFile, "utf8");
        const thing = readState(fixture.stateFile)!.resources.find((r) => r.type === THING)!;
        const token = (thing.outputs.token as { value: string }).value;
        expect(token).toMatch(/^[0-9a-f]{32}$/);
        for (const plaintext of [token, "the-note-is-secret", "PRIVATE KEY", fixture.certificate.privateKeyPem]) {
            expect(text).not.toContain(plaintext);
        }
        expect(text).toContain('"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",\n');
        expect(text).toMatch(/"ciphertext": "v1:/);

        const exported = JSON.stringify(exportStack(fixture.stateFile, { showSecrets: true }));
        expect(exported).toContain(JSON.stringify(JSON.stringify("the-note-is-secret")));
        expect(JSON.stringify(exportStack(fixture.stateFile))).not.toContain("the-note-is-secret");
    });

    it("changes nothing on a second up", async () => {
        const before = readState(fixture.stateFile)!;
        const run = await up(fixture.options());
        assertSucceeded(run);
        expect(new Set(run.steps.map((step) => step.op))).toEqual(new Set(["same"]));
        expect(run.steps).toHaveLength(7);
        expect(readState(fixture.stateFile)!.resources.map((r) => [r.urn, r.id])).toEqual(
            before.resources.map((r) => [r.urn, r.id]),
        );
    });

    it("previews a label change as updates and writes no state", async () => {
        const before = fs.readFileSync(fixture.stateFile);
        const run = await preview(fixture.options({ label: "second" }));
        assertSucceeded(run);
        expect(run.steps.find((s) => s.name === "thing")).toMatchObject({ op: "update", reason: "diff: ~label" });
        // The new digest is unknown until the update runs, so the TXT record would change too.
        expect(run.steps.find((s) => s.name === "site-txt")).toMatchObject({ op: "update", reason: "diff: ~records" });
        expect(run.steps.filter((s) => s.op === "same")).toHaveLength(5);
        expect(fs.readFileSync(fixture.stateFile).equals(before)).toBe(true);
        expect(remoteObjects()).toEqual([`${firstThingId}.json`]);
    });

    it("updates in place when an input changes", async () => {
        const run = await up(fixture.options({ label: "second" }));
        assertSucceeded(run);
        expect(opsByName(run)).toMatchObject({
            thing: "update",
            "site-txt": "update",
            "site-www": "same",
            tls: "same",
        });
        expect(run.outputs.thingId).toBe(firstThingId);
        expect(await txtValues()).toContain(String(run.outputs.digest));
        expect(JSON.parse(fs.readFileSync(path.join(fixture.remoteDir, `${firstThingId}.json`), "utf8")).label).toBe(
            "second",
        );
    });

    it("replaces when the provider's diff says so, creating the new resource before deleting the old", async () => {
        const run = await up(fixture.options({ label: "second", generation: 2 }));
        assertSucceeded(run);
        const thingSteps = run.steps.filter((s) => s.name === "thing");
        expect(thingSteps).toEqual([
            expect.objectContaining({ op: "replace", reason: "diff: ~generation; replace: generation" }),
            expect.objectContaining({ op: "delete", reason: "replaced" }),
        ]);
        expect(run.steps.indexOf(thingSteps[1]!)).toBe(run.steps.length - 1);
        expect(run.outputs.thingId).not.toBe(firstThingId);
        expect(remoteObjects()).toEqual([`${run.outputs.thingId}.json`]);
        expect(readState(fixture.stateFile)!.resources.filter((r) => r.type === THING)).toHaveLength(1);
    });

    it("passes a refresh when nothing drifted, reading from state alone in a fresh host", async () => {
        const run = await refresh({ state: fixture.stateFile, expectNoChanges: true });
        assertSucceeded(run);
        expect(run.steps).toEqual([expect.objectContaining({ op: "refresh-same", name: "thing" })]);
        expect(run.driftDetected).toBe(false);
        expect(run.diagnostics.some((d) => d.line.startsWith("[fixture] read thing-"))).toBe(true);
    });

    it("fails a refresh that expects no changes once the clock passes the fixture's expiry", async () => {
        const run = await refresh({ state: fixture.stateFile, expectNoChanges: true, clockOffsetSeconds: 7200 });
        expect(run.ok).toBe(false);
        expect(run.driftDetected).toBe(true);
        expect(run.steps).toEqual([
            expect.objectContaining({ op: "refresh-drift", name: "thing", reason: "replace: expiresAt" }),
        ]);
        expect(run.error?.message).toContain("no changes were expected but changes occurred");
    });

    it("sees a change made behind the stack's back, and up --refresh puts it right", async () => {
        const thingId = String(readState(fixture.stateFile)!.resources.find((r) => r.type === THING)!.id);
        const remote = path.join(fixture.remoteDir, `${thingId}.json`);
        fs.writeFileSync(remote, JSON.stringify({ label: "tampered", generation: 2 }));

        const run = await up(fixture.options({ label: "second", generation: 2 }, { refresh: true }));
        assertSucceeded(run);
        expect(run.steps[0]).toMatchObject({ op: "refresh-drift", name: "thing", reason: "diff: ~digest ~label" });
        expect(run.steps.find((s) => s.name === "thing" && s.op === "update")).toBeDefined();
        expect(JSON.parse(fs.readFileSync(remote, "utf8")).label).toBe("second");
    });

    it("deletes a resource the program no longer registers", async () => {
        const run = await up(fixture.options({ label: "second", generation: 2, withoutCname: true }));
        assertSucceeded(run);
        expect(run.steps.at(-1)).toMatchObject({ op: "delete", name: "site-www", reason: "not in program" });
        expect(run.steps.filter((s) => s.op !== "same")).toHaveLength(1);
        await expect(resolver.resolveCname(`www.${fixture.site}`)).rejects.toMatchObject(NO_SUCH_RECORD);
        await expect(up(fixture.options({ label: "second", generation: 2 }))).resolves.toMatchObject({ ok: true });
    });

    it("destroys everything, BIND records included", async () => {
        const run = await destroy({ state: fixture.stateFile, services: fixture.options().services! });
        assertSucceeded(run);
        expect(run.steps.map((s) => s.op)).toEqual(Array(7).fill("delete"));
        // Dependents first: the TXT record (which uses the thing's digest) goes before the thing.
        const order = run.steps.map((s) => s.name);
        expect(order.indexOf("site-txt")).toBeLessThan(order.indexOf("thing"));
        expect(order.at(-1)).toBe("harness-fixture-dev");
        expect(readState(fixture.stateFile)!.resources).toEqual([]);
        expect(remoteObjects()).toEqual([]);
        await expect(resolver.resolveTxt(`_acme-challenge.${fixture.site}`)).rejects.toMatchObject(NO_SUCH_RECORD);
        await expect(resolver.resolveCname(`www.${fixture.site}`)).rejects.toMatchObject(NO_SUCH_RECORD);
    });
});
