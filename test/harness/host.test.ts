// The building blocks others use directly: the real provider host over gRPC, and capturing what a program
// registers under mocks. Exercised with the fixture provider package, installed into node_modules as a copy.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureRegistrations } from "./capture";
import { installFixtureProvider } from "./fixture-provider/install";
import type * as fixture from "./fixture-provider/src/index";
import { DynamicProviderHost, fromMockInputs, isSecret, secret, serializeProvider, UNKNOWN } from "./host";

const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");
const PROJECT = "harness-host-test";
const URN = `urn:pulumi:dev::${PROJECT}::pulumi-nodejs:dynamic/fixture:Thing::thing`;

let remoteDir: string;
let host: DynamicProviderHost;

beforeAll(async () => {
    installFixtureProvider();
    remoteDir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-host-"));
    host = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
    await host.configure({ [`${PROJECT}:greeting`]: secret("configured-greeting") });
});

afterAll(async () => {
    await host?.stop();
    fs.rmSync(remoteDir, { recursive: true, force: true });
});

/** The fixture's Thing, loaded by Node from node_modules (not transformed by vitest, so it can be serialized). */
const loadThing = () => (require("harness-fixture-provider") as typeof fixture).Thing;

async function registeredInputs(args: Partial<fixture.ThingArgs>) {
    const Thing = loadThing();
    const program = () => {
        new Thing("thing", { label: "one", remoteDir, ...args });
    };
    const capture = await captureRegistrations(program, { project: PROJECT });
    return capture.find("thing").inputs;
}

describe("captureRegistrations", () => {
    it("records type, parent, options and a short require() __provider, byte-identical to serializeProvider", async () => {
        const Thing = loadThing();
        const capture = await captureRegistrations(
            () => {
                const thing = new Thing("thing", { label: "one", remoteDir, note: pulumi.secret("hush") });
                return { id: thing.id };
            },
            { project: PROJECT },
        );
        const thing = capture.find("thing");
        expect(thing.type).toBe("pulumi-nodejs:dynamic/fixture:Thing");
        expect(thing.urn).toBe(URN);
        expect(thing.parent).toBe(capture.find(`${PROJECT}-dev`).urn);
        expect(thing.additionalSecretOutputs).toEqual(["token"]);
        expect(thing.inputs.note).toEqual(secret("hush"));
        const provider = String(thing.inputs.__provider);
        expect(provider).toContain('require("harness-fixture-provider/dist/provider.js")');
        expect(provider.length).toBeLessThan(400);
        const direct = await serializeProvider(require("harness-fixture-provider/dist/provider.js"));
        expect(direct.text).toBe(provider);
        expect(capture.outputs).toEqual({ id: "thing-id" });
    });

    it("sends unknown values as the engine's sentinel during a preview", async () => {
        const Thing = loadThing();
        const capture = await captureRegistrations(
            () => {
                const first = new Thing("first", { label: "one", remoteDir });
                new Thing("second", { label: first.digest, remoteDir });
            },
            { preview: true, project: PROJECT },
        );
        expect(capture.find("second").inputs.label).toBe(UNKNOWN);
        expect(capture.find("second").dependencies).toEqual([capture.find("first").urn]);
    });

    it("fromMockInputs turns the mocks' unknowns into the sentinel", () => {
        expect(fromMockInputs({ a: { __pulumiUnknown: true }, b: [1, { __pulumiUnknown: true }] })).toEqual({
            a: UNKNOWN,
            b: [1, UNKNOWN],
        });
    });
});

describe("DynamicProviderHost", () => {
    it("reports Check failures and passes unknowns through", async () => {
        const inputs = await registeredInputs({});
        const bad = await host.check(URN, {}, { ...inputs, label: "" });
        expect(bad.failures).toEqual([{ property: "label", reason: "label must be a non-empty string" }]);
        const unknown = await host.check(URN, {}, { ...inputs, label: UNKNOWN });
        expect(unknown.failures).toEqual([]);
        expect(unknown.inputs.label).toBe(UNKNOWN);
    });

    it("creates, diffs, updates, reads and deletes, with the engine's secret rules", async () => {
        const checked = await host.check(URN, {}, { ...(await registeredInputs({})), note: secret("hush") });
        expect(checked.inputs.lifetimeSeconds).toBe(3600);
        expect(checked.inputs.note).toEqual(secret("hush"));

        const created = await host.create(URN, checked.inputs, { additionalSecretOutputs: ["token"] });
        const remote = path.join(remoteDir, `${created.id}.json`);
        expect(fs.existsSync(remote)).toBe(true);
        expect(isSecret(created.outputs.token)).toBe(true);
        expect(created.outputs.note).toEqual(secret("hush"));
        expect(created.outputs.greeting).toBe("configured-greeting");

        const same = await host.diff(created.id, URN, created.outputs, checked.inputs, checked.inputs);
        expect(same).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false });
        const relabel = { ...checked.inputs, label: "two" };
        expect((await host.diff(created.id, URN, created.outputs, relabel)).changes).toBe("some");
        const regenerate = { ...checked.inputs, generation: 2 };
        expect((await host.diff(created.id, URN, created.outputs, regenerate)).replaces).toEqual(["generation"]);

        const updated = await host.update(created.id, URN, created.outputs, relabel, checked.inputs, {
            additionalSecretOutputs: ["token"],
        });
        expect(updated.outputs.label).toBe("two");
        expect(updated.outputs.token).toEqual(created.outputs.token);

        const read = await host.read(created.id, URN, updated.outputs, relabel);
        expect(read.id).toBe(created.id);
        expect(read.outputs.label).toBe("two");

        await host.delete(created.id, URN, updated.outputs, relabel);
        expect(fs.existsSync(remote)).toBe(false);
        expect(host.lines).toContainEqual({ stream: "stdout", line: `[fixture] deleted ${created.id}` });
    });

    it("a fresh host reads and deletes from saved state alone, and reports a vanished resource as id ''", async () => {
        const checked = await host.check(URN, {}, await registeredInputs({}));
        const created = await host.create(URN, checked.inputs);
        const fresh = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
        try {
            await fresh.configure({});
            expect((await fresh.read(created.id, URN, created.outputs, checked.inputs)).id).toBe(created.id);
            await fresh.delete(created.id, URN, created.outputs, checked.inputs);
            expect((await fresh.read(created.id, URN, created.outputs, checked.inputs)).id).toBe("");
        } finally {
            await fresh.stop();
        }
    });

    it("shifts the provider's clock by the given offset", async () => {
        const checked = await host.check(URN, {}, await registeredInputs({}));
        const created = await host.create(URN, checked.inputs);
        const later = await DynamicProviderHost.start({
            cwd: REPOSITORY_ROOT,
            project: PROJECT,
            clockOffsetSeconds: 7200,
        });
        try {
            await later.configure({});
            const diff = await later.diff(created.id, URN, created.outputs, checked.inputs, checked.inputs);
            expect(diff).toEqual({ changes: "some", replaces: ["expiresAt"], deleteBeforeReplace: false });
            await later.delete(created.id, URN, created.outputs);
        } finally {
            await later.stop();
        }
    });
});
