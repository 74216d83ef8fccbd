// Per-client hooks into acme-client's HTTP layer: one keep-alive agent that trusts the account's CA, a pool of
// Replay-Nonces instead of a HEAD newNonce before every POST, bounded retries that honour Retry-After, and a
// record of what each operation last saw on the wire (the source of its error message).
import { AsyncLocalStorage } from "node:async_hooks";
import type { KeyObject } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";
import type { Client } from "acme-client";
import {
    AcmeErrorType,
    type AcmeProblem,
    describeProblem,
    isNetworkError,
    isRetryableStatus,
    problemFromResponse,
    UNTYPED_PROBLEM,
} from "./errors";
import { type AcmeTiming, nextStep, parseRetryAfter } from "./timing";

/** A response as acme-client's request layer (axios) returns it. */
export interface HttpResponse {
    status: number;
    headers: Record<string, unknown>;
    data: unknown;
}

/** A request as errors name it. */
export interface RequestLine {
    method: string;
    url: string;
}

type RequestOptions = Record<string, unknown>;
interface SignedRequestOptions {
    kid?: string | null;
    nonce?: string | null;
    includeExternalAccountBinding?: boolean;
}

/**
 * The internals of acme-client 5.4.0 this module relies on. They are not its public API, so
 * test/acme/internals.test.ts fails loudly when an upgrade changes them:
 * - `client.http` (HttpClient, `src/http.js`): `request(url, method, opts)` hands `opts` to the module-global
 *   axios instance; `getNonce()` sends HEAD newNonce; `signedRequest(url, payload, opts, attempts)` signs with
 *   `opts.nonce` (or, without one, a nonce from getNonce()) and, on badNonce, calls `this.signedRequest` again
 *   (attempts + 1) with the nonce of the error response; `getDirectory()` fetches and caches the directory; `accountKey` is the key every JWS is
 *   signed with (`createSignedBody`: `crypto.createSign(...).sign({ key: accountKey })`) and the JWK is derived
 *   from (`getJwk`: `crypto.createPublicKey(accountKey)`), so a KeyObject serves as well as the PEM it is given.
 * - `client.api.accountUrl` (AcmeApi, `src/api.js`): the `kid` signed requests carry.
 * - `src/axios.js`: the global retry interceptor counts `config.retryAttempt` up to `retryMaxAttempts`, and
 *   replaces the error of a request that got no response with a TypeError.
 */
export interface AcmeClientInternals {
    http: {
        accountKey: Buffer | KeyObject;
        request(url: string, method: string, opts?: RequestOptions): Promise<HttpResponse>;
        getNonce(): Promise<string>;
        signedRequest(
            url: string,
            payload: unknown,
            opts?: SignedRequestOptions,
            attempts?: number,
        ): Promise<HttpResponse>;
        getDirectory(): Promise<Record<string, unknown>>;
    };
    api: { accountUrl: string | null };
}

/** An acme-client Client whose requests go through a Transport. */
export type InstrumentedClient = Client & AcmeClientInternals;

/** What one operation (one method of an account client) last sent and received. */
export class Exchange {
    request: RequestLine | null = null;
    response: HttpResponse | null = null;
    /** How many times that request was sent. */
    attempts = 0;
}

/**
 * A request that failed without a response acme-client could report: the connection failed (after its
 * retries, or at once when retrying cannot help, as with an untrusted certificate), or the CA asked to wait
 * longer than we do. The message says which, without the "Unable to <action>" the caller adds.
 */
export class TransportFailure extends Error {
    constructor(
        message: string,
        readonly request: RequestLine,
        readonly problem: AcmeProblem,
        readonly retryAfter: Date | null,
        cause?: unknown,
    ) {
        super(message, cause === undefined ? undefined : { cause });
        this.name = "TransportFailure";
    }
}

/** The connection to one CA for one account key and trust; every acme-client Client instrumented with it shares it. */
export class Transport {
    private readonly agent: https.Agent;
    private readonly nonces: NoncePool;
    private readonly exchanges = new AsyncLocalStorage<Exchange>();

    constructor(
        caCertificatesPem: string | null | undefined,
        private readonly timing: AcmeTiming,
    ) {
        // `ca` replaces Node's roots rather than adding to them, so the public roots are listed as well. Built once:
        // an agent given `ca` builds a context from all of them for every new connection (20–35 ms), and keys its
        // socket pool by the whole list.
        const trust = caCertificatesPem ? { ca: [...tls.rootCertificates, caCertificatesPem] } : {};
        this.agent = new https.Agent({ keepAlive: true, secureContext: tls.createSecureContext(trust) });
        this.nonces = new NoncePool(timing.nonceWaitMs);
    }

    /** Runs `operation`, recording in `exchange` the requests it makes (concurrent operations keep theirs apart). */
    record<T>(exchange: Exchange, operation: () => Promise<T>): Promise<T> {
        return this.exchanges.run(exchange, operation);
    }

    /** Routes the requests of `client` through this transport, by replacing methods of its own `http` instance. */
    instrument(client: Client): InstrumentedClient {
        const instrumented = client as InstrumentedClient;
        assertAcmeClientInternals(instrumented);
        const { http: httpClient } = instrumented;
        const send = httpClient.request.bind(httpClient);
        const fetchNonce = httpClient.getNonce.bind(httpClient);
        const sign = httpClient.signedRequest.bind(httpClient);

        httpClient.request = (url, method, opts = {}) => {
            const request = { method: method.toUpperCase(), url };
            const sendOnce = () => this.sendOnce(send, request, method, opts);
            // A POST is retried one level up, in signedRequest, because a retry must be signed with a fresh nonce.
            return method === "post" ? sendOnce() : this.withRetries(request, sendOnce);
        };
        httpClient.signedRequest = (url, payload, opts, attempts = 0) =>
            // attempts > 0 is acme-client's own badNonce resend, part of the attempt already being made here.
            attempts > 0
                ? sign(url, payload, opts, attempts)
                : this.withRetries({ method: "POST", url }, () =>
                      this.nonces.sendWithNonce((nonce) => sign(url, payload, { ...opts, nonce }, 0), fetchNonce),
                  );
        return instrumented;
    }

    private async sendOnce(
        send: AcmeClientInternals["http"]["request"],
        request: RequestLine,
        method: string,
        opts: RequestOptions,
    ): Promise<HttpResponse> {
        let connectionError: Error | undefined;
        const noteError = (error: Error) => {
            connectionError ??= error;
        };
        const response = await send(request.url, method, {
            ...opts,
            httpsAgent: this.agent,
            timeout: this.timing.requestTimeoutMs,
            // Report a timeout as ETIMEDOUT, not as ECONNABORTED (which also means "cancelled").
            transitional: { clarifyTimeoutError: true },
            // acme-client's interceptor would retry up to 5 times, 5 s apart, ignoring our bounds; it only does so
            // while config.retryAttempt <= retryMaxAttempts, so starting above any maximum turns it off.
            retryAttempt: Number.POSITIVE_INFINITY,
            // That interceptor also replaces the error of a request that got no response with a TypeError. The
            // socket's own error (ECONNRESET, ETIMEDOUT, a TLS verification error) is seen here instead.
            transport: {
                request(options: https.RequestOptions, onResponse: (response: http.IncomingMessage) => void) {
                    const module = options.protocol === "http:" ? http : https;
                    const outgoing = module.request(options, (incoming) => {
                        incoming.on("error", noteError);
                        onResponse(incoming);
                    });
                    outgoing.on("error", (error: Error & { code?: string }) => {
                        if (outgoing.reusedSocket && error.code === "ECONNRESET") RESETS_OF_REUSED_SOCKETS.add(error);
                        noteError(error);
                    });
                    return outgoing;
                },
            },
        }).catch((error: unknown) => {
            throw connectionError ?? error;
        });
        this.observe(request, method, response);
        return response;
    }

    private observe(request: RequestLine, method: string, response: HttpResponse): void {
        const exchange = this.exchanges.getStore();
        if (exchange) {
            exchange.request = request;
            exchange.response = response;
        }
        const nonce = response.headers["replay-nonce"];
        // The nonce of HEAD newNonce goes to getNonce's caller, and a badNonce error's nonce to signedRequest's own
        // resend: pooling either would hand one nonce out twice.
        if (typeof nonce === "string" && method !== "head" && !isBadNonceResponse(response)) this.nonces.add(nonce);
    }

    /**
     * Sends until the answer is not worth retrying: HTTP 429, 5xx and transient network errors are retried up
     * to timing.maxAttempts, waiting as Retry-After says or with exponential backoff. A badNonce that outlived
     * acme-client's own resends is retried too, at once: a fresh nonce is the remedy, not waiting. So is the first
     * reset of a reused keep-alive connection: servers close idle connections, and one may close just as a request
     * goes out on it, which says nothing about the CA. Either counts as an attempt.
     */
    private async withRetries(request: RequestLine, attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
        let staleConnectionRetried = false;
        for (let attemptNumber = 1; ; attemptNumber++) {
            let response: HttpResponse | undefined;
            let connectionError: Error | undefined;
            try {
                response = await attempt();
            } catch (error) {
                // A TransportFailure comes from a nested request (getNonce's HEAD) that has had its retries.
                if (error instanceof TransportFailure || !isConnectionError(error)) throw error;
                connectionError = error;
            }
            const exchange = this.exchanges.getStore();
            if (exchange) exchange.attempts = attemptNumber;

            const badNonce = response !== undefined && isBadNonceResponse(response);
            if (response && !badNonce && !isRetryableStatus(response.status)) return response;
            if (connectionError && !isNetworkError(connectionError)) {
                throw connectionFailure(request, connectionError, attemptNumber);
            }
            const staleConnection: boolean = !staleConnectionRetried && isResetOfReusedSocket(connectionError);
            staleConnectionRetried ||= staleConnection;
            // The next attempt signs with a fresh nonce, or goes out on another connection: neither needs a wait.
            const retryAfterMs =
                badNonce || staleConnection ? 0 : parseRetryAfter(response?.headers["retry-after"], this.timing.now());
            const step = nextStep(attemptNumber, retryAfterMs, this.timing);
            if (step.kind === "retry") {
                if (step.delayMs > 0) await this.timing.sleep(step.delayMs);
                continue;
            }
            if (response) {
                if (step.kind === "waitTooLong") throw waitTooLongFailure(request, response, step.retryAt);
                // Out of attempts: acme-client reports the CA's answer as it would any other error response.
                return response;
            }
            throw connectionFailure(request, connectionError!, attemptNumber);
        }
    }
}

/** Fails at construction, naming what is missing, when acme-client is not the version this module hooks into. */
export function assertAcmeClientInternals(client: Client): asserts client is InstrumentedClient {
    const { http: httpClient, api } = client as Partial<AcmeClientInternals>;
    const missing = [
        ...["request", "getNonce", "signedRequest", "getDirectory"]
            .filter((method) => typeof (httpClient as Record<string, unknown> | undefined)?.[method] !== "function")
            .map((method) => `http.${method}()`),
        ...(httpClient && "accountKey" in httpClient ? [] : ["http.accountKey"]),
        ...(api && "accountUrl" in api ? [] : ["api.accountUrl"]),
    ];
    if (missing.length > 0) {
        throw new Error(
            `acme-client's internals differ from 5.4.0 (missing ${missing.join(", ")}): ` +
                "install acme-client 5.4.0, or update provider/acme/transport.ts for the new version",
        );
    }
}

/**
 * Replay-Nonces (RFC 8555 §6.5) from earlier responses, each handed out once, newest first. When there is none
 * but signed requests are under way, a request waits a little for the nonce one of their answers will bring
 * instead of asking for a new one (HEAD newNonce): requests sent together, such as the fetches of an order's
 * authorizations, would otherwise cost a HEAD each but the first.
 */
class NoncePool {
    // A CA forgets nonces after a while; a handful of recent ones covers any burst of concurrent requests.
    private static readonly capacity = 32;
    private readonly nonces: string[] = [];
    /** Requests waiting for an answer's nonce, first come first served; never more than requests under way. */
    private readonly waiting: Array<(nonce: string | undefined) => void> = [];
    /** Signed requests that have a nonce (or are fetching one): each answer will bring a new one. */
    private underWay = 0;

    /** `maxWaitMs`: how long a request waits for an answer's nonce before it fetches one itself. */
    constructor(private readonly maxWaitMs: number) {}

    /** Runs one signed request, `send`, with a pooled nonce, one from an answer under way, or one from `fetch`. */
    async sendWithNonce<T>(send: (nonce: string) => Promise<T>, fetch: () => Promise<string>): Promise<T> {
        const nonce = await this.take();
        try {
            return await send(nonce ?? (await fetch()));
        } finally {
            this.underWay -= 1;
            // Requests waiting beyond the answers still to come would wait in vain.
            while (this.waiting.length > this.underWay) this.waiting.pop()!(undefined);
        }
    }

    add(nonce: string): void {
        const waiter = this.waiting.shift();
        if (waiter) {
            waiter(nonce);
            return;
        }
        this.nonces.push(nonce);
        if (this.nonces.length > NoncePool.capacity) this.nonces.shift();
    }

    /** A nonce, or undefined when there is none to be had soon; either way the caller is now under way. */
    private take(): Promise<string | undefined> {
        const pooled = this.nonces.pop();
        if (pooled !== undefined || this.waiting.length >= this.underWay) {
            this.underWay += 1;
            return Promise.resolve(pooled);
        }
        return new Promise((resolve) => {
            const handOut = (nonce: string | undefined) => {
                clearTimeout(timer);
                this.underWay += 1;
                resolve(nonce);
            };
            const timer = setTimeout(() => {
                this.waiting.splice(this.waiting.indexOf(handOut), 1);
                handOut(undefined);
            }, this.maxWaitMs);
            this.waiting.push(handOut);
        });
    }
}

function isBadNonceResponse(response: HttpResponse): boolean {
    return response.status === 400 && (response.data as { type?: unknown } | null)?.type === AcmeErrorType.badNonce;
}

/** Resets of a connection the agent had kept alive and reused (see withRetries), as the socket reported them. */
const RESETS_OF_REUSED_SOCKETS = new WeakSet<Error>();

function isResetOfReusedSocket(error: Error | undefined): boolean {
    return error !== undefined && RESETS_OF_REUSED_SOCKETS.has(error);
}

/** An error of the socket itself (system, TLS and timeout errors all carry a code; acme-client's own never do). */
function isConnectionError(error: unknown): error is Error & { code: string } {
    return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/** Certificate verification failures: retrying cannot help, trusting the CA's root can. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

function connectionFailure(request: RequestLine, error: Error, attempts: number): TransportFailure {
    const code = (error as { code?: string }).code ?? "";
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    const advice = UNTRUSTED_CERTIFICATE_CODES.has(code)
        ? ": the CA's HTTPS certificate is not trusted; give the CA that issued it in caCertificatesPem"
        : "";
    const detail = `${request.method} ${request.url} got no response${tries}: ${error.message} (${code})${advice}`;
    return new TransportFailure(detail, request, { type: UNTYPED_PROBLEM, detail }, null, error);
}

function waitTooLongFailure(request: RequestLine, response: HttpResponse, retryAt: Date): TransportFailure {
    const problem = problemFromResponse(response.status, response.data);
    const reason = response.status === 429 ? "rate limited by the CA" : "the CA is unavailable";
    const message = `${reason} until ${retryAt.toISOString()}: ${describeProblem(problem)}`;
    return new TransportFailure(message, request, problem, retryAt);
}
