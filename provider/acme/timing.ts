// How long to wait, and when to stop: transport retries, Retry-After, order polling. Production defaults here;
// tests pass shorter ones (and a recording sleep) through the same object.
import { SHORT_RETRY_AFTER_MS } from "./errors";

/** @internal Every delay the ACME layer uses, with the clock and sleep it measures them by. */
export interface AcmeTiming {
    /** Attempts per request, the first one included. */
    maxAttempts: number;
    /** The wait before the second attempt when the CA sends no Retry-After; it doubles for each later attempt. */
    retryBaseDelayMs: number;
    /** A Retry-After further away than this fails the request at once, saying until when, instead of waiting. */
    maxRetryAfterMs: number;
    /** A request that has not been answered after this long counts as a network error (ETIMEDOUT) and is retried. */
    requestTimeoutMs: number;
    /** The first order poll comes this soon: a test CA is done in a few milliseconds. */
    firstPollDelayMs: number;
    /**
     * How long a request short of a nonce waits for the answer of one in flight (whose Replay-Nonce it then uses)
     * before it asks for a new one. A timeout on an event, not a sleep: `sleep` is not used for it.
     */
    nonceWaitMs: number;
    /** The interval between polls doubles up to this. */
    maxPollDelayMs: number;
    /** Used by waitForOrder when the caller gives no timeoutSeconds. */
    defaultPollTimeoutSeconds: number;
    sleep(ms: number): Promise<void>;
    now(): number;
}

/**
 * @internal 4 attempts 1 s, 2 s and 4 s apart (or as the CA's Retry-After says, up to a minute), 30 s per
 * request; polls after 10 ms, 20 ms, 40 ms, … then every 3 s, for at most 5 minutes. Against a real CA, which
 * takes far longer than 10 ms, the early start costs at most one extra poll per wait.
 */
export const DEFAULT_TIMING: AcmeTiming = {
    maxAttempts: 4,
    retryBaseDelayMs: 1000,
    maxRetryAfterMs: SHORT_RETRY_AFTER_MS,
    requestTimeoutMs: 30_000,
    firstPollDelayMs: 10,
    // About one round trip to a distant CA, which is what asking for a new nonce would cost.
    nonceWaitMs: 100,
    maxPollDelayMs: 3000,
    defaultPollTimeoutSeconds: 300,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
};

/** @internal What to do after an attempt that failed in a way worth retrying. */
export type NextStep = { kind: "retry"; delayMs: number } | { kind: "giveUp" } | { kind: "waitTooLong"; retryAt: Date };

/**
 * @internal After failed attempt number `attempt` (1-based): wait and retry, give up, or fail at once because
 * the CA's Retry-After is beyond the ceiling. A Retry-After within the ceiling always sets the delay.
 */
export function nextStep(attempt: number, retryAfterMs: number | null, timing: AcmeTiming): NextStep {
    if (retryAfterMs !== null && retryAfterMs > timing.maxRetryAfterMs) {
        return { kind: "waitTooLong", retryAt: new Date(timing.now() + retryAfterMs) };
    }
    if (attempt >= timing.maxAttempts) return { kind: "giveUp" };
    return { kind: "retry", delayMs: retryAfterMs ?? timing.retryBaseDelayMs * 2 ** (attempt - 1) };
}

/**
 * @internal The delay a Retry-After header asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), in ms
 * from `nowMs`; null when there is no header or it cannot be read. A date in the past means "now" (0).
 */
export function parseRetryAfter(header: unknown, nowMs: number): number | null {
    if (typeof header !== "string" || header.trim() === "") return null;
    const text = header.trim();
    if (/^\d+$/.test(text)) return Number(text) * 1000;
    // Every HTTP-date form begins with the day's name; Date.parse alone would also read "-5" or "1.5" as dates.
    const date = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
    return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** @internal The wait before the poll after one that waited `previousMs`: twice as long, up to the ceiling. */
export function nextPollDelay(previousMs: number, timing: AcmeTiming): number {
    return Math.min(previousMs * 2, timing.maxPollDelayMs);
}
