// The CA unreachable after a real issuance: `pulumi preview` (Check and Diff of every resource) and an `up` with
// nothing to do succeed without it, and `pulumi refresh` keeps the stored state and says why instead of failing.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assertSucceeded, type HarnessRun, preview, readState, refresh, up } from "../harness/index";
import type { StackState } from "../harness/state";
import { isSecret, type PropertyValue } from "../harness/values";
import { uniqueName } from "../stack/names";
import { type ProgramStack, programStack } from "./stacks";
import { type CaProxy, keyMaterialIn, startCaProxy } from "./support";

const stack = inject("stack");
let proxy: CaProxy;
let program: ProgramStack;
let issued: StackState;
const name = uniqueName();

beforeAll(async () => {
    proxy = await startCaProxy(stack.pebble);
    program = programStack(stack, { ca: proxy, domains: [name] });
    const created = await up(program.options());
    runs.push(created);
    assertSucceeded(created);
    issued = readState(program.state)!;
    // The CA goes away: its address refuses connections from now on.
    await proxy.stop();
}, 60_000);
afterAll(() => program?.remove());

const outputsOf = (state: StackState | undefined, resource: string) =>
    state?.resources.find((candidate) => candidate.urn.endsWith(`::${resource}`))?.outputs;

const plain = (value: PropertyValue | undefined) => (isSecret(value) ? value.value : value);
const runs: HarnessRun[] = [];

const opsOf = (run: HarnessRun) => [...new Set(run.steps.map((step) => step.op))];

describe("with the CA unreachable", () => {
    it("a preview checks and diffs every resource without it, and plans no change", async () => {
        const run = await preview(program.options());
        runs.push(run);
        assertSucceeded(run);
        expect(opsOf(run)).toEqual(["same"]);
        expect(run.steps.map((step) => step.name)).toEqual(
            expect.arrayContaining(["account", "site-order", "site-certificate"]),
        );
    });

    it("a refresh keeps the stored state, reports that the CA could not be read, and does not fail", async () => {
        const run = await refresh(program.options({ program: undefined }));
        runs.push(run);
        assertSucceeded(run);
        expect(run.driftDetected).toBe(false);
        expect(outputsOf(readState(program.state), "site-order")).toEqual(outputsOf(issued, "site-order"));
        const report = run.diagnostics
            .map((line) => line.line)
            .find((line) => line.includes("could not read the order"));
        expect(report).toMatch(
            new RegExp(
                `${name.replaceAll(".", "\\.")}: could not read the order from the CA, keeping what is stored: .*ECONNREFUSED`,
            ),
        );
    });

    it("an up with nothing to do succeeds without it", async () => {
        const run = await up(program.options());
        assertSucceeded(run);
        expect(opsOf(run)).toEqual(["same"]);
        runs.push(run);
    });

    it("printed nothing of the private keys in any of these runs", () => {
        const keys = issued.resources
            .filter((resource) => resource.type.endsWith(":PrivateKey"))
            .map((resource) => String(plain(resource.outputs.privateKeyPem)));
        expect(keys).toHaveLength(2);
        const texts = runs.flatMap((run) => [run.display, ...run.diagnostics.map((line) => line.line)]);
        expect(keyMaterialIn(texts, keys)).toEqual([]);
    });
});
