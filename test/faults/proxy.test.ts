// Faults between the providers and the CA, injected by a proxy in front of the stack's Pebble on chosen
// endpoints: each transient fault is absorbed within its bounds (attempts, backoff, Retry-After) and costs at most
// one extra order; a permanent one fails after the bounded attempts with a message that says what happened.
// Production timing throughout (the providers expose no other): 1 s, 2 s, 4 s between attempts.
import { afterAll, describe, expect, inject, it } from "vitest";
import type * as certificate from "../../provider/resources/certificate";
import * as certificateProvider from "../../provider/resources/certificate";
import * as certificateRequest from "../../provider/resources/certificateRequest";
import * as privateKey from "../../provider/resources/privateKey";
import type { RegistrationOutputs } from "../../provider/resources/registration";
import { certificateArgs, checkAndCreate, issue, placeOrder, publish } from "../resources/issue";
import type { RequestKind } from "../stack/caProxy";
import { expectChainTo } from "../stack/chain";
import { pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { startLostAnswerProxy } from "./lostAnswers";
import {
    type CaProxy,
    gapsAfterEach,
    keyMaterialIn,
    literal,
    ofKind,
    ordersCreated,
    problemResponse,
    registerThrough,
    startCaProxy,
    statuses,
} from "./support";

const stack = inject("stack");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
});

/** A proxy and an account of the case's own, so that cases run concurrently without seeing each other's faults. */
async function newCase(): Promise<{ proxy: CaProxy; account: RegistrationOutputs }> {
    const proxy = await startCaProxy(stack.pebble);
    stops.push(() => proxy.stop());
    const account = await registerThrough(stack, proxy);
    accountKeys.push(account.accountKeyPem);
    proxy.resetCounts();
    return { proxy, account };
}

/** Key and CSR for one fresh name (no CA involved). */
async function csrFor(name: string): Promise<string> {
    const key = await checkAndCreate<privateKey.PrivateKeyOutputs>(privateKey, {});
    const csr = await checkAndCreate<{ csrPem: string }>(certificateRequest, {
        privateKeyPem: key.outs.privateKeyPem,
        dnsNames: [name],
    });
    return csr.outs.csrPem;
}

/** Matches requests of `kind` only once a request of `after` has been seen (e.g. the first poll after answering). */
function onceSeen(after: RequestKind, kind: RequestKind) {
    let seenAfter = false;
    return (request: { kind: RequestKind }) => {
        if (request.kind === after) seenAfter = true;
        return seenAfter && request.kind === kind;
    };
}

/** Every error message of this file and the account keys behind them: audited at the end for key material. */
const messages: string[] = [];
const accountKeys: string[] = [];

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(
        () => new Error("expected a rejection, but it succeeded"),
        (error: unknown) => error,
    );
    if (!(outcome instanceof Error) || outcome.message === "expected a rejection, but it succeeded") throw outcome;
    messages.push(outcome.message);
    return outcome;
}

const serverInternal = (status: number) => problemResponse(status, "serverInternal", "the CA is having a moment");

describe.concurrent("transient faults are absorbed within their bounds", () => {
    it("a 500 on newOrder is retried once after the 1 s backoff, and one order is placed", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: ofKind("newOrder"), times: 1, action: serverInternal(500) });
        const name = uniqueName();
        await issue(stack, account, [name]);
        expect(statuses(proxy, "newOrder")).toEqual([500, 201]);
        expect(gapsAfterEach(proxy, "newOrder")[0]).toBeGreaterThanOrEqual(1000);
        expect(ordersCreated(proxy)).toBe(1);
    });

    it("a 503 on finalize is retried, and the certificate is issued from the same order", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: ofKind("finalize"), times: 1, action: serverInternal(503) });
        const { certificate: cert } = await issue(stack, account, [uniqueName()]);
        expect(statuses(proxy, "finalize")).toEqual([503, 200]);
        expect(ordersCreated(proxy)).toBe(1);
        expect(cert.outs.certificatePem).toContain("BEGIN CERTIFICATE");
    });

    it("a 503 on the order poll after answering the challenges is retried, and the order goes on", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: onceSeen("challenge", "order"), times: 1, action: serverInternal(503) });
        await issue(stack, account, [uniqueName()]);
        expect(statuses(proxy, "order")).toContain(503);
        expect(statuses(proxy, "order").at(-1)).toBe(200);
        expect(ordersCreated(proxy)).toBe(1);
    });

    it("a 429 on newOrder with Retry-After: 2 is retried no sooner than 2 s later", async () => {
        const { proxy, account } = await newCase();
        const limited = problemResponse(429, "rateLimited", "too many new orders", { "retry-after": "2" });
        proxy.addFault({ match: ofKind("newOrder"), times: 1, action: limited });
        await placeOrder(account, await csrFor(uniqueName()));
        expect(statuses(proxy, "newOrder")).toEqual([429, 201]);
        // The retry starts after the 429 was answered plus the 2 s it asked for (not after the 1 s backoff).
        expect(gapsAfterEach(proxy, "newOrder")[0]).toBeGreaterThanOrEqual(2000);
        expect(ordersCreated(proxy)).toBe(1);
    });

    it("a connection reset on the authorization fetch is retried", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: ofKind("authz"), times: 1, action: { type: "reset" } });
        const placed = await placeOrder(account, await csrFor(uniqueName()));
        expect(statuses(proxy, "authz")).toEqual([null, 200]);
        expect(placed.outs.dnsChallenges).toHaveLength(1);
        expect(ordersCreated(proxy)).toBe(1);
    });

    it("a connection reset on the challenge answer is retried, and the challenge is answered once", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: ofKind("challenge"), times: 1, action: { type: "reset" } });
        await issue(stack, account, [uniqueName()]);
        expect(statuses(proxy, "challenge")).toEqual([null, 200]);
        expect(ordersCreated(proxy)).toBe(1);
    });

    it("a slow certificate download (3 s) is waited for, not retried", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({ match: ofKind("certificate"), times: 1, action: { type: "delay", ms: 3000 } });
        const name = uniqueName();
        const { certificate: cert } = await issue(stack, account, [name]);
        expect(statuses(proxy, "certificate")).toEqual([200]);
        const download = proxy.requests.find(ofKind("certificate"))!;
        expect(download.endedAt - download.startedAt).toBeGreaterThanOrEqual(3000);
        expectChainTo(cert.outs.fullChainPem, await pebbleRootPem(stack.pebble), [name]);
    });
});

describe.concurrent("answers lost after the CA acted on the request", () => {
    async function lostCase() {
        const proxy = await startCaProxy(stack.pebble);
        const lost = await startLostAnswerProxy(proxy);
        stops.push(
            () => proxy.stop(),
            () => lost.stop(),
        );
        const account = await registerThrough(stack, lost);
        proxy.resetCounts();
        return { proxy, lost, account };
    }

    it("a lost newOrder answer is retried: at most one extra (abandoned) order", async () => {
        const { proxy, lost, account } = await lostCase();
        lost.loseAnswers("newOrder", 1);
        await issue(stack, account, [uniqueName()]);
        expect(lost.lost).toBe(1);
        expect(statuses(proxy, "newOrder")).toEqual([201, 201]);
        expect(ordersCreated(proxy) - 1).toBeLessThanOrEqual(1);
    });

    it("a lost finalize answer does not fail the certificate: the order is read back and goes on", async () => {
        const { proxy, lost, account } = await lostCase();
        lost.loseAnswers("finalize", 1);
        const { certificate: cert } = await issue(stack, account, [uniqueName()]);
        expect(lost.lost).toBe(1);
        expect(statuses(proxy, "finalize")[0]).toBe(200);
        expect(ordersCreated(proxy)).toBe(1);
        expect(cert.outs.certificatePem).toContain("BEGIN CERTIFICATE");
    });

    it("a lost challenge answer does not fail the certificate", async () => {
        const { proxy, lost, account } = await lostCase();
        lost.loseAnswers("challenge", 1);
        await issue(stack, account, [uniqueName()]);
        expect(lost.lost).toBe(1);
        expect(ordersCreated(proxy)).toBe(1);
    });
});

describe.concurrent("permanent faults fail after the bounded attempts, clearly", () => {
    it("a newOrder that always gets 503 fails after 4 attempts 1 s, 2 s and 4 s apart, placing no order", async () => {
        const { proxy, account } = await newCase();
        proxy.addFault({
            match: ofKind("newOrder"),
            times: Number.POSITIVE_INFINITY,
            action: { type: "respond", status: 503, headers: { "content-type": "text/html" }, body: "<h1>down</h1>" },
        });
        const name = uniqueName();
        const error = await rejectionOf(placeOrder(account, await csrFor(name)));
        expect(error.message).toBe(
            `Unable to create an order for ${name}: HTTP 503 Service Unavailable (after 4 attempts)`,
        );
        expect(statuses(proxy, "newOrder")).toEqual([503, 503, 503, 503]);
        const gaps = gapsAfterEach(proxy, "newOrder");
        expect(gaps[0]).toBeGreaterThanOrEqual(1000);
        expect(gaps[1]).toBeGreaterThanOrEqual(2000);
        expect(gaps[2]).toBeGreaterThanOrEqual(4000);
        expect(ordersCreated(proxy)).toBe(0);
    });

    it("a Retry-After of an hour fails at once, saying until when, with one request", async () => {
        const { proxy, account } = await newCase();
        const limited = problemResponse(429, "rateLimited", "too many new orders", { "retry-after": "3600" });
        proxy.addFault({ match: ofKind("newOrder"), times: Number.POSITIVE_INFINITY, action: limited });
        const name = uniqueName();
        const error = await rejectionOf(placeOrder(account, await csrFor(name)));
        expect(error.message).toMatch(
            new RegExp(
                `^Unable to create an order for ${literal(name)}: rate limited by the CA until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: too many new orders`,
            ),
        );
        expect(statuses(proxy, "newOrder")).toEqual([429]);
    });

    it("order polls that never get an answer fail the certificate without giving up the order; running again issues from it", async () => {
        const { proxy, account } = await newCase();
        const name = uniqueName();
        const placed = await placeOrder(account, await csrFor(name));
        await publish(stack, placed.outs);
        const args = certificateArgs(stack, account, placed.outs);
        proxy.addFault({
            match: onceSeen("challenge", "order"),
            times: Number.POSITIVE_INFINITY,
            action: { type: "reset" },
        });
        const before = proxy.requests.length;
        const error = await rejectionOf(checkAndCreate(certificateProvider, args));
        expect(error.message).toMatch(
            new RegExp(
                `^Unable to issue a certificate for ${literal(name)}: Unable to poll order .* got no response after 4 attempts: .*\\(ECONNRESET\\)`,
            ),
        );
        // A CA that did not answer says nothing about the order: it is not abandoned, and no new one is asked for.
        expect(error.message).not.toMatch(/place a new order/);
        expect(error.message).toMatch(/run `pulumi up` again/);
        expect(statuses(proxy, "order").filter((status) => status === null)).toHaveLength(4);
        expect(proxy.requests.slice(before).filter(ofKind("authz"))).toEqual([]);

        proxy.clearFaults();
        const again = await checkAndCreate<certificate.CertificateOutputs>(certificateProvider, args);
        expect(again.outs.orderUrl).toBe(placed.outs.orderUrl);
        expect(ordersCreated(proxy)).toBe(1);
    });
});

describe("the error messages above", () => {
    it("hold no key material of the account keys", () => {
        expect(messages).toHaveLength(3);
        expect(keyMaterialIn(messages, accountKeys)).toEqual([]);
    });
});
