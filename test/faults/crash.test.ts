// The provider host SIGKILLed in the middle of issuance (the harness's crash injection), then the same program run
// again: it converges to one valid certificate for the same key, BIND holds only the TXT values the program
// declares, and a crash costs at most one extra order. Each stack is crashed at several points in a row, each run
// recovering from the previous crash and then crashing at the next point.
import * as crypto from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type HarnessRun, readState, up } from "../harness/index";
import type { StackState } from "../harness/state";
import { isSecret, type PropertyValue } from "../harness/values";
import { txtValuesAt } from "../stack/bind";
import { expectChainTo } from "../stack/chain";
import { pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { startLostAnswerProxy } from "./lostAnswers";
import { startSlowDns } from "./slowDns";
import { programStack } from "./stacks";
import { type CaProxy, keyMaterialIn, ofKind, ordersCreated, startCaProxy } from "./support";

const stack = inject("stack");
const stops: Array<() => Promise<void> | void> = [];
afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
});

const plain = (value: PropertyValue | undefined) => (isSecret(value) ? value.value : value);

function resource(state: StackState | undefined, name: string) {
    return state?.resources.find((candidate) => candidate.urn.endsWith(`::${name}`));
}

function keyFingerprint(state: StackState | undefined): unknown {
    return plain(resource(state, "site-key")?.outputs.publicKeyFingerprintSha256);
}

/** Requests of `kind` the proxy saw from index `from` on. */
const since = (proxy: CaProxy, from: number, kind: Parameters<typeof ofKind>[0]) =>
    proxy.requests.slice(from).filter(ofKind(kind));

/** Every run of this file: what they printed and failed with is audited at the end for key material. */
const runs: Array<{ run: HarnessRun; state: string }> = [];

/** The run failed at the resource whose create the host was killed in, and at nothing else. */
function expectCrashed(run: HarnessRun, resourceName: string) {
    expect(run.ok, run.display).toBe(false);
    expect(run.error?.urn).toMatch(new RegExp(`::${resourceName}$`));
}

/** The end state: one valid certificate for the names, from the program's key, and only declared TXT values. */
async function expectConverged(run: HarnessRun, state: string, names: string[], fingerprint: unknown) {
    expect(run.ok, run.display).toBe(true);
    const after = readState(state)!;
    expect(after.pendingOperations).toEqual([]);
    expect(keyFingerprint(after)).toBe(fingerprint);
    const leaf = expectChainTo(String(run.outputs.fullChainPem), await pebbleRootPem(stack.pebble), names);
    const leafKey = crypto.createHash("sha256").update(leaf.publicKey.export({ type: "spki", format: "der" }));
    expect(leafKey.digest("hex")).toBe(fingerprint);
    const certificates = after.resources.filter((r) => r.type.endsWith(":Certificate"));
    expect(certificates).toHaveLength(1);
    // BIND holds exactly what the program declares now: the values of the order the certificate came from.
    const declared = run.outputs.dnsChallenges as Array<{ recordName: string; values: string[] }>;
    for (const name of names) {
        const record = declared.find((r) => r.recordName === `_acme-challenge.${name}`);
        expect(await txtValuesAt(stack.bind, `_acme-challenge.${name}`)).toEqual([...record!.values].sort());
    }
}

/**
 * Each crash point holds the host there (a nameserver that never answers, an answer the proxy never sends) and the
 * harness kills it this long after the create started: ample time to reach the point on a loaded machine, and the
 * evidence (what the proxy and the nameserver saw) confirms it was reached.
 */
const KILL_AFTER_MS = 4000;

/** A proxy that can hold answers, in front of a counting proxy, in front of the stack's Pebble. */
async function heldCa() {
    const proxy = await startCaProxy(stack.pebble);
    const lost = await startLostAnswerProxy(proxy);
    stops.push(
        () => proxy.stop(),
        () => lost.stop(),
    );
    return { proxy, lost };
}

describe.concurrent("the provider host killed during issuance", () => {
    it("right after the Certificate's create starts, then during the propagation wait, then after the challenges were answered: the next run converges with no extra order", async () => {
        const { proxy, lost } = await heldCa();
        // A nameserver that holds every answer back: the propagation check waits as long as it is told to.
        const slowDns = await startSlowDns(stack.bind, Number.POSITIVE_INFINITY);
        stops.push(() => slowDns.stop());
        const name = uniqueName();
        const program = programStack(stack, { ca: lost, domains: [name], nameservers: [slowDns.address] });
        stops.push(() => program.remove());

        // 1. Killed as soon as the Certificate's create was sent.
        const first = await recorded(
            program.state,
            program.options({ killHostDuring: { type: "Certificate", afterMs: 0 } }),
        );
        expectCrashed(first, "site-certificate");
        const fingerprint = keyFingerprint(readState(program.state));
        expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
        const orderUrl = readOrderUrl(program.state);
        expect(orderUrl).toMatch(/^https:/);
        expect(proxy.requests.filter(ofKind("challenge"))).toEqual([]);

        // 2. Killed while the propagation check waits for the nameserver's answers.
        const queriesBefore = slowDns.queries;
        let mark = proxy.requests.length;
        const second = await recorded(
            program.state,
            program.options({ killHostDuring: { type: "Certificate", afterMs: KILL_AFTER_MS } }),
        );
        expectCrashed(second, "site-certificate");
        expect(slowDns.queries).toBeGreaterThan(queriesBefore);
        expect(since(proxy, mark, "challenge")).toEqual([]);

        // 3. Killed while the answer to the first order poll after answering the challenges is held back.
        slowDns.delayMs = 0;
        let answered = false;
        lost.holdAnswers((kind) => {
            if (kind === "challenge") answered = true;
            return answered && kind === "order";
        }, 1);
        mark = proxy.requests.length;
        const third = await recorded(
            program.state,
            program.options({ killHostDuring: { type: "Certificate", afterMs: KILL_AFTER_MS } }),
        );
        expectCrashed(third, "site-certificate");
        expect(lost.lost).toBe(1);
        expect(since(proxy, mark, "challenge").map((r) => r.status)).toEqual([200]);
        expect(since(proxy, mark, "finalize")).toEqual([]);

        // 4. Left alone: the same order is taken from where the crashes left it.
        const last = await recorded(program.state, program.options());
        await expectConverged(last, program.state, [name], fingerprint);
        expect(last.outputs.orderUrl).toBe(orderUrl);
        expect(ordersCreated(proxy)).toBe(1);
        console.log(
            `[faults] crash at start, in propagation, after answering: ${ordersCreated(proxy) - 1} extra orders`,
        );
    });

    it("during the Order's create, then after the CA answered the finalize: the next run converges with one extra order", async () => {
        const { proxy, lost } = await heldCa();
        const name = uniqueName();
        const program = programStack(stack, { ca: lost, domains: [name] });
        stops.push(() => program.remove());

        // 1. Killed after newOrder was answered, while the authorization's answer is held back: the order is lost.
        lost.holdAnswers((kind) => kind === "authz", 1);
        const first = await recorded(
            program.state,
            program.options({ killHostDuring: { type: "Order", afterMs: KILL_AFTER_MS } }),
        );
        expectCrashed(first, "site-order");
        expect(proxy.requests.filter(ofKind("newOrder")).map((r) => r.status)).toEqual([201]);
        const afterFirst = readState(program.state);
        expect(resource(afterFirst, "site-order")).toBeUndefined();
        const fingerprint = keyFingerprint(afterFirst);
        expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);

        // 2. Killed while the answer to the finalize, which the CA has accepted, is held back.
        lost.holdAnswers((kind) => kind === "finalize", 1);
        const mark = proxy.requests.length;
        const second = await recorded(
            program.state,
            program.options({ killHostDuring: { type: "Certificate", afterMs: KILL_AFTER_MS } }),
        );
        expectCrashed(second, "site-certificate");
        expect(since(proxy, mark, "finalize").map((r) => r.status)).toEqual([200]);
        expect(lost.lost).toBe(2);

        // 3. Left alone: the finalized order's certificate is downloaded, no new order, no second finalize.
        const last = await recorded(program.state, program.options());
        await expectConverged(last, program.state, [name], fingerprint);
        expect(proxy.requests.filter(ofKind("finalize"))).toHaveLength(1);
        expect(ordersCreated(proxy) - 1).toBe(1);
        console.log(`[faults] crash in Order create, after finalize: ${ordersCreated(proxy) - 1} extra order`);
    });
});

async function recorded(state: string, options: Parameters<typeof up>[0]): Promise<HarnessRun> {
    const run = await up(options);
    runs.push({ run, state });
    return run;
}

describe("the runs above", () => {
    it("printed and failed with no key material of the stacks' private keys", () => {
        expect(runs.length).toBe(7);
        const keys = [...new Set(runs.map(({ state }) => state))].flatMap((state) =>
            (readState(state)?.resources ?? [])
                .filter((r) => r.type.endsWith(":PrivateKey"))
                .map((r) => String(plain(r.outputs.privateKeyPem))),
        );
        expect(keys).toHaveLength(4);
        const texts = runs.flatMap(({ run }) => [
            run.display,
            run.error?.message ?? "",
            ...run.diagnostics.map((line) => line.line),
        ]);
        expect(keyMaterialIn(texts, keys)).toEqual([]);
    });
});

function readOrderUrl(state: string): unknown {
    return plain(resource(readState(state), "site-order")?.outputs.orderUrl);
}
