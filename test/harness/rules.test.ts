// The engine rules and the state file, on their own: step decisions from Diff answers, the refresh inversion,
// deletion order, secret marking and encryption.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ProviderDiff } from "./host";
import { changedKeys, decideChange, describeDiff, diffByInputs, refreshDrifted } from "./rules";
import { dependentsFirst, exportStack, keyFileOf, type ResourceState, readState, writeState } from "./state";
import { annotateSecrets, markSecretOutputs, secret, stripSecrets, UNKNOWN } from "./values";

const none: ProviderDiff = { changes: "none", replaces: [], deleteBeforeReplace: false };
const some: ProviderDiff = { changes: "some", replaces: [], deleteBeforeReplace: false };
const unknown: ProviderDiff = { changes: "unknown", replaces: [], deleteBeforeReplace: false };

describe("decideChange (the engine's step rules)", () => {
    it.each([
        ["DIFF_NONE is same even when inputs differ", none, { a: 1 }, { a: 2 }, {}, { op: "same" }],
        ["DIFF_SOME without replace keys updates", some, { a: 1 }, { a: 2 }, {}, { op: "update", reason: "diff: ~a" }],
        [
            "DIFF_SOME with replace keys replaces, create before delete",
            { ...some, replaces: ["a"] },
            { a: 1 },
            { a: 2 },
            {},
            { op: "replace", reason: "diff: ~a; replace: a", deleteBeforeReplace: false },
        ],
        [
            "the provider's deleteBeforeReplace is kept",
            { ...some, replaces: ["x"], deleteBeforeReplace: true },
            { a: 1 },
            { a: 1 },
            {},
            { op: "replace", reason: "replace: x", deleteBeforeReplace: true },
        ],
        [
            "the deleteBeforeReplace option wins over the provider",
            { ...some, replaces: ["a"], deleteBeforeReplace: true },
            { a: 1 },
            { a: 2 },
            { deleteBeforeReplace: false },
            { op: "replace", reason: "diff: ~a; replace: a", deleteBeforeReplace: false },
        ],
        [
            "replaceOnChanges turns a changed input into a replacement",
            some,
            { a: 1, b: 1 },
            { a: 2, b: 1 },
            { replaceOnChanges: ["a"] },
            { op: "replace", reason: "diff: ~a; replace: a", deleteBeforeReplace: false },
        ],
        ["DIFF_UNKNOWN with equal inputs is same", unknown, { a: 1 }, { a: 1 }, {}, { op: "same" }],
        [
            "DIFF_UNKNOWN compares inputs, __provider included (hidden from the reason)",
            unknown,
            { __provider: "v1" },
            { __provider: "v2" },
            {},
            { op: "update", reason: "" },
        ],
    ] as const)("%s", (_name, diff, olds, news, options, expected) => {
        const answer = { ...diff, replaces: [...diff.replaces] };
        expect(decideChange(answer, olds, news, options)).toEqual(expected);
    });

    it("diffByInputs reports replace paths, nested ones included, and unknowns as changes", () => {
        const olds = { metadata: { name: "a", labels: { x: "1" } }, data: "d" };
        expect(diffByInputs(olds, olds, ["metadata.name"])).toEqual(none);
        expect(diffByInputs(olds, { ...olds, metadata: { name: "b" } }, ["metadata.name"]).replaces).toEqual([
            "metadata.name",
        ]);
        expect(diffByInputs(olds, { ...olds, data: UNKNOWN }, ["metadata.name"])).toEqual(some);
    });

    it("describes changes the way the display does", () => {
        expect(describeDiff({ a: 1, b: 1 }, { a: 2, c: 1 })).toBe("diff: ~a -b +c");
        expect(changedKeys({ a: secret("x") }, { a: "x" })).toEqual(["a"]);
    });

    it("refresh drift: the inverted diff decides, DIFF_UNKNOWN compares outputs", () => {
        expect(refreshDrifted(none, { a: 1 }, { a: 2 })).toBe(false);
        expect(refreshDrifted(some, { a: 1 }, { a: 1 })).toBe(true);
        expect(refreshDrifted(unknown, { a: 1 }, { a: 1 })).toBe(false);
        expect(refreshDrifted(unknown, { a: 1 }, { a: 2 })).toBe(true);
    });
});

describe("secrets, as the engine marks them", () => {
    it("strips secrets for providers and re-marks same-named outputs, recursing into objects", () => {
        const inputs = { key: secret("k"), nested: { inner: secret("i"), plain: "p" }, list: ["a", secret("b")] };
        expect(stripSecrets(inputs)).toEqual({ key: "k", nested: { inner: "i", plain: "p" }, list: ["a", "b"] });
        const outputs = { key: "k", nested: { inner: "i", plain: "p" }, list: ["a", "b"], other: "o" };
        expect(annotateSecrets(outputs, inputs)).toEqual({
            key: secret("k"),
            nested: { inner: secret("i"), plain: "p" },
            list: secret(["a", "b"]),
            other: "o",
        });
        expect(markSecretOutputs({ privateKey: "pem", arn: "a" }, ["privateKey", "absent"])).toEqual({
            privateKey: secret("pem"),
            arn: "a",
        });
    });
});

describe("state", () => {
    const resource = (urn: string, extra: Partial<ResourceState> = {}): ResourceState => ({
        urn,
        type: "t",
        custom: true,
        inputs: {},
        outputs: {},
        dependencies: [],
        ...extra,
    });

    it("orders deletions dependents first: dependencies, parents and providers", () => {
        const provider = resource("provider");
        const component = resource("component", { custom: false });
        const base = resource("base", { provider: "provider::id-1" });
        const child = resource("child", { parent: "component", dependencies: ["base"] });
        const unrelated = resource("unrelated");
        const order = dependentsFirst([provider, component, base, child, unrelated]).map((r) => r.urn);
        expect(order.indexOf("child")).toBeLessThan(order.indexOf("base"));
        expect(order.indexOf("child")).toBeLessThan(order.indexOf("component"));
        expect(order.indexOf("base")).toBeLessThan(order.indexOf("provider"));
        expect(order).toHaveLength(5);
    });

    it("encrypts secrets on disk with a key beside the state, and exports them like pulumi stack export", () => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "harness-state-"));
        try {
            const stateFile = path.join(directory, "dev.json");
            const state = {
                project: "p",
                stack: "dev",
                pendingOperations: [],
                resources: [resource("r", { inputs: { key: secret("-----BEGIN PRIVATE KEY-----x") } })],
            };
            writeState(stateFile, state);
            const text = fs.readFileSync(stateFile, "utf8");
            expect(text).not.toContain("PRIVATE KEY");
            expect(fs.statSync(keyFileOf(stateFile)).mode & 0o777).toBe(0o600);
            expect(readState(stateFile)).toEqual(state);

            const exported = exportStack(stateFile, { showSecrets: true }) as {
                version: number;
                deployment: { resources: Array<{ inputs: { key: Record<string, string> } }> };
            };
            expect(exported.version).toBe(3);
            expect(exported.deployment.resources[0]!.inputs.key).toEqual({
                "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                plaintext: JSON.stringify("-----BEGIN PRIVATE KEY-----x"),
            });
            expect(JSON.stringify(exportStack(stateFile))).not.toContain("PRIVATE KEY");
        } finally {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
});
