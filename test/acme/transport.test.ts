// The account client's transport, seen from a counting, fault-injecting proxy in front of the stack's Pebble:
// requests per certificate, nonce reuse, retries and Retry-After, and per-client trust.
import * as acme from "acme-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { type AcmeAccountRef, accountClient, createAccountClient } from "../../provider/acme/client";
import { AcmeErrorType, isRetryable } from "../../provider/acme/errors";
import type { AcmeTiming } from "../../provider/acme/timing";
import { generatePrivateKey } from "../../provider/crypto/keys";
import { type CaProxy, type RequestKind, startCaProxy } from "../stack/caProxy";
import { DnsUpdater } from "../stack/index";
import { uniqueName } from "../stack/names";
import { freePort } from "../stack/processes";
import { challengeOf, issueOverDns01, publishDns01, rejection } from "./issue";

const stack = inject("stack");
const dns = new DnsUpdater(stack.bind);

let proxy: CaProxy;
beforeAll(async () => {
    proxy = await startCaProxy(stack.pebble);
});
afterAll(() => proxy?.stop());
afterEach(() => proxy.clearFaults());

/** Records every delay asked for, and waits only a little of it so tests stay fast. */
let sleeps: number[];
beforeEach(() => {
    sleeps = [];
});
const fastTiming: Partial<AcmeTiming> = {
    sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 10)));
    },
};

async function proxiedRef(): Promise<AcmeAccountRef> {
    return {
        directoryUrl: proxy.directoryUrl,
        caCertificatesPem: proxy.caPem,
        accountKeyPem: await generatePrivateKey({ algorithm: "ECDSA" }),
    };
}

async function registeredClient(timing: Partial<AcmeTiming> = fastTiming) {
    const ref = await proxiedRef();
    const client = createAccountClient(ref, timing);
    const account = await client.registerAccount({ contact: [], termsOfServiceAgreed: true });
    return { client, ref, account };
}

const kind = (wanted: RequestKind) => (request: { kind: RequestKind }) => request.kind === wanted;
const requestsOf = (wanted: RequestKind) => proxy.requests.filter(kind(wanted));

describe("requests per certificate", () => {
    it("a warm client needs at most 2N + 6 requests for one name, and no newNonce", async () => {
        const { client } = await registeredClient({});
        proxy.resetCounts();
        await issueOverDns01(client, [uniqueName()], dns);
        const counts = proxy.countByKind();
        const total = proxy.requests.length;
        expect(total, JSON.stringify(counts)).toBeLessThanOrEqual(2 * 1 + 6);
        expect(counts).toMatchObject({ newOrder: 1, authz: 1, challenge: 1, finalize: 1, certificate: 1 });
        expect(counts.newNonce).toBeUndefined();
        expect(counts.directory).toBeUndefined();
    });

    it("a warm client needs at most 2N + 6 requests for an apex and its wildcard right after registering, and no newNonce", async () => {
        // Right after registering, one nonce is pooled; the order's two authorizations are fetched (and their
        // challenges answered) together, so the second request of each pair waits for the first one's nonce.
        const { client } = await registeredClient({});
        proxy.resetCounts();
        const apex = uniqueName();
        await issueOverDns01(client, [apex, `*.${apex}`], dns);
        const counts = proxy.countByKind();
        expect(proxy.requests.length, JSON.stringify(counts)).toBeLessThanOrEqual(2 * 2 + 6);
        expect(counts).toMatchObject({ newOrder: 1, authz: 2, challenge: 2, finalize: 1, certificate: 1 });
        expect(counts.newNonce).toBeUndefined();
    });

    it("only the first signed request of a new client fetches a nonce", async () => {
        proxy.resetCounts();
        const { client } = await registeredClient();
        await client.createOrder({ dnsNames: [uniqueName()] });
        expect(proxy.requests.map((request) => request.kind)).toEqual([
            "directory",
            "newNonce",
            "newAccount",
            "newOrder",
        ]);
    });

    it("a cached client adopts an account URL it learns later, and then never looks the account up", async () => {
        const { ref, account } = await registeredClient();
        const shared = accountClient(ref);
        expect(accountClient({ ...ref, accountUrl: account.url })).toBe(shared);
        proxy.resetCounts();
        await shared.createOrder({ dnsNames: [uniqueName()] });
        expect(requestsOf("newAccount")).toEqual([]);
        expect(requestsOf("newOrder")).toHaveLength(1);
    });
});

describe("nonces", () => {
    it("concurrent requests share the nonces of each other's answers, each nonce used once", async () => {
        const { client } = await registeredClient({});
        proxy.resetCounts();
        await Promise.all(Array.from({ length: 20 }, () => client.createOrder({ dnsNames: [uniqueName()] })));
        const signed = proxy.requests.filter((request) => request.method === "POST");
        // Pebble refuses a nonce it has seen before with badNonce (400).
        expect(signed.map((request) => request.status)).toEqual(Array(20).fill(201));
        expect(requestsOf("newNonce").length).toBeLessThan(20);
    });

    it("a request does not wait longer than nonceWaitMs for a slow answer's nonce: it fetches one", async () => {
        const { client } = await registeredClient({ ...fastTiming, nonceWaitMs: 50 });
        proxy.addFault({ match: kind("newOrder"), times: 1, action: { type: "delay", ms: 1000 } });
        proxy.resetCounts();
        const finished: string[] = [];
        const slow = client.createOrder({ dnsNames: [uniqueName()] }).then(() => finished.push("slow"));
        const started = Date.now();
        const quick = client.createOrder({ dnsNames: [uniqueName()] }).then(() => finished.push("quick"));
        await Promise.all([slow, quick]);
        expect(finished).toEqual(["quick", "slow"]);
        expect(requestsOf("newNonce")).toHaveLength(1);
        expect(requestsOf("newNonce")[0]!.startedAt - started).toBeGreaterThanOrEqual(45);
    });
});

describe("retries", () => {
    const serverError = JSON.stringify({ type: AcmeErrorType.serverInternal, detail: "try again", status: 503 });
    const rateLimited = (retryAfter: string) => ({
        type: "respond" as const,
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": retryAfter },
        body: JSON.stringify({ type: AcmeErrorType.rateLimited, detail: "too many new orders", status: 429 }),
    });

    it("a 503 on newOrder is retried after the backoff, signed with a fresh nonce", async () => {
        const { client } = await registeredClient();
        proxy.resetCounts();
        proxy.addFault({
            match: kind("newOrder"),
            times: 1,
            action: { type: "respond", status: 503, body: serverError },
        });
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        expect(order.status).toBe("pending");
        expect(requestsOf("newOrder").map((request) => request.status)).toEqual([503, 201]);
        expect(sleeps).toEqual([1000]);
    });

    it("a 429 with Retry-After: 1 waits the second it asks for, then succeeds", async () => {
        const { client } = await registeredClient();
        proxy.resetCounts();
        proxy.addFault({ match: kind("newOrder"), times: 1, action: rateLimited("1") });
        await client.createOrder({ dnsNames: [uniqueName()] });
        expect(requestsOf("newOrder").map((request) => request.status)).toEqual([429, 201]);
        expect(sleeps).toEqual([1000]);
    });

    it("a Retry-After given as an HTTP date is honoured too", async () => {
        const { client } = await registeredClient();
        proxy.resetCounts();
        const inTwentySeconds = new Date(Date.now() + 20_000).toUTCString();
        proxy.addFault({ match: kind("newOrder"), times: 1, action: rateLimited(inTwentySeconds) });
        await client.createOrder({ dnsNames: [uniqueName()] });
        expect(requestsOf("newOrder")).toHaveLength(2);
        expect(sleeps).toHaveLength(1);
        expect(sleeps[0]).toBeGreaterThan(10_000);
        expect(sleeps[0]).toBeLessThanOrEqual(20_000);
    });

    it("a Retry-After of an hour fails at once, saying until when and what the CA said", async () => {
        const { client } = await registeredClient();
        proxy.resetCounts();
        proxy.addFault({ match: kind("newOrder"), times: 1, action: rateLimited("3600") });
        const name = uniqueName();
        const error = await rejection(client.createOrder({ dnsNames: [name] }));
        expect(error.message).toMatch(
            new RegExp(
                `^Unable to create an order for ${name.replaceAll(".", "\\.")}: rate limited by the CA until ` +
                    "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z: too many new orders " +
                    "\\(urn:ietf:params:acme:error:rateLimited\\)$",
            ),
        );
        expect(error.retryAfter!.getTime()).toBeGreaterThan(Date.now() + 3500_000);
        expect(error.problem).toEqual({ type: AcmeErrorType.rateLimited, detail: "too many new orders", status: 429 });
        expect(error.request).toEqual({ method: "POST", url: expect.stringMatching(/\/order-plz$/) });
        expect(isRetryable(error)).toBe(false);
        expect(requestsOf("newOrder")).toHaveLength(1);
        expect(sleeps).toEqual([]);
    });

    it("a reset of a reused keep-alive connection is retried at once, once", async () => {
        const { client } = await registeredClient();
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        proxy.resetCounts();
        proxy.addFault({ match: kind("order"), times: 1, action: { type: "reset" } });
        const polled = await client.waitForOrder(order.url, ["pending"]);
        expect(polled.status).toBe("pending");
        expect(requestsOf("order").map((request) => request.status)).toEqual([null, 200]);
        // Only the first poll's delay: no backoff before the retry.
        expect(sleeps).toEqual([10]);
    });

    it("a second reset, also of a reused connection, waits the backoff of its attempt", async () => {
        const { client } = await registeredClient({ ...fastTiming, nonceWaitMs: 20 });
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        // Two polls at once, the first one slow, so that the second fetches a nonce of its own on a second
        // connection: both stay in the pool.
        proxy.addFault({ match: kind("order"), times: 1, action: { type: "delay", ms: 300 } });
        await Promise.all([client.getOrder(order.url), client.getOrder(order.url)]);
        proxy.resetCounts();
        proxy.addFault({ match: kind("order"), times: 2, action: { type: "reset" } });
        expect((await client.getOrder(order.url)).status).toBe("pending");
        expect(requestsOf("order").map((request) => request.status)).toEqual([null, null, 200]);
        // The retry at once was the second attempt.
        expect(sleeps).toEqual([2000]);
    });

    it("a reset of a new connection waits the backoff", async () => {
        const client = createAccountClient(await proxiedRef(), fastTiming);
        proxy.resetCounts();
        proxy.addFault({ match: kind("directory"), times: 1, action: { type: "reset" } });
        expect(await client.directoryMeta()).toMatchObject({ externalAccountRequired: false });
        expect(requestsOf("directory").map((request) => request.status)).toEqual([null, 200]);
        expect(sleeps).toEqual([1000]);
    });

    it("a poll answered with a Retry-After waits that long before polling again", async () => {
        const { client } = await registeredClient();
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        const [authorization] = await publishDns01(client, order, dns);
        await client.answerChallenge(challengeOf(authorization!, "dns-01").url);
        proxy.resetCounts();
        const stillPending = JSON.stringify({ ...order, status: "pending" });
        proxy.addFault({
            match: kind("order"),
            times: 1,
            action: { type: "respond", status: 200, headers: { "retry-after": "2" }, body: stillPending },
        });
        expect((await client.waitForOrder(order.url, ["ready"])).status).toBe("ready");
        expect(requestsOf("order")).toHaveLength(2);
        expect(sleeps).toEqual([10, 2000]);
    });

    it("an order that stays pending times out, naming it, its status and how long it waited", async () => {
        let clock = 0;
        const polls: number[] = [];
        const { client } = await registeredClient({
            now: () => clock,
            sleep: async (ms) => {
                polls.push(ms);
                clock += ms;
            },
        });
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        const progress: string[] = [];
        const waiting = client.waitForOrder(order.url, ["ready"], {
            timeoutSeconds: 1,
            onProgress: (line) => progress.push(line),
        });
        await expect(waiting).rejects.toThrow(
            `Order ${order.url} is still pending after waiting 1 s for it to become ready: the CA has not ` +
                "finished; try again later, or raise timeoutSeconds (now 1)",
        );
        expect(polls).toEqual([10, 20, 40, 80, 160, 320]);
        expect(progress).toEqual([`order ${order.url} is pending, waiting for ready`]);
    });

    it("a request that gets no answer in time is retried", async () => {
        const client = createAccountClient(await proxiedRef(), { ...fastTiming, requestTimeoutMs: 200 });
        proxy.resetCounts();
        proxy.addFault({ match: kind("directory"), times: 1, action: { type: "delay", ms: 2000 } });
        expect(await client.directoryMeta()).toMatchObject({ externalAccountRequired: false });
        expect(requestsOf("directory")).toHaveLength(2);
        expect(sleeps).toEqual([1000]);
    });

    it("a fault that never clears fails after 4 attempts with the CA's answer", async () => {
        const { client } = await registeredClient();
        proxy.resetCounts();
        proxy.addFault({
            match: kind("newOrder"),
            times: Number.POSITIVE_INFINITY,
            action: {
                type: "respond",
                status: 503,
                headers: { "content-type": "application/problem+json" },
                body: serverError,
            },
        });
        const name = uniqueName();
        const error = await rejection(client.createOrder({ dnsNames: [name] }));
        expect(error.message).toBe(
            `Unable to create an order for ${name}: try again (urn:ietf:params:acme:error:serverInternal) (after 4 attempts)`,
        );
        expect(isRetryable(error)).toBe(true);
        expect(requestsOf("newOrder")).toHaveLength(4);
        expect(sleeps).toEqual([1000, 2000, 4000]);
    });

    it("a CA that refuses connections fails after 4 attempts, naming the error", async () => {
        const directoryUrl = `https://127.0.0.1:${await freePort()}/dir`;
        const client = createAccountClient({ ...(await proxiedRef()), directoryUrl }, fastTiming);
        const error = await rejection(client.directoryMeta());
        expect(error.message).toMatch(
            new RegExp(
                `^Unable to read the CA's directory: GET ${directoryUrl} got no response after 4 attempts: .*\\(ECONNREFUSED\\)$`,
            ),
        );
        expect(isRetryable(error)).toBe(true);
        expect(sleeps).toEqual([1000, 2000, 4000]);
    });
});

describe("trust", () => {
    it("a CA whose certificate is not trusted fails at once, pointing at caCertificatesPem", async () => {
        const { caCertificatesPem: _, ...untrusting } = await proxiedRef();
        const error = await rejection(createAccountClient(untrusting, fastTiming).directoryMeta());
        expect(error.message).toMatch(/got no response: .*\(DEPTH_ZERO_SELF_SIGNED_CERT\): .* caCertificatesPem$/);
        expect(isRetryable(error)).toBe(false);
        expect(sleeps).toEqual([]);
    });

    it("trust is per client: acme-client's global axios defaults are never touched", async () => {
        await registeredClient();
        expect(acme.axios.defaults.httpsAgent).toBeUndefined();
        expect(acme.axios.defaults.timeout).toBe(0);
    });
});
