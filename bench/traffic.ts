// What a client asked the CA during one run, from the counting proxy's log: totals, RFC 8555 steps, the
// protocol minimum to compare with, and the idle gaps between requests (where a client's waits show).
import type { CaProxy, ProxiedRequest } from "../test/stack/caProxy";

/** A request's step in the protocol: the proxy's route kind, with first fetches told apart from polls. */
export type Step =
    | "directory"
    | "newNonce"
    | "newAccount"
    | "account"
    | "newOrder"
    | "authz-get"
    | "authz-poll"
    | "chal-respond"
    | "chal-poll"
    | "order-poll"
    | "finalize"
    | "certificate"
    | "revoke"
    | "other";

export interface TracedRequest {
    step: Step;
    method: string;
    status: number | null;
    /** ms from the start of the run. */
    at: number;
    durationMs: number;
}

export interface Traffic {
    total: number;
    bySteps: Partial<Record<Step, number>>;
    trace: TracedRequest[];
}

/** The requests that started within [startedAt, endedAt] (epoch ms), in arrival order. */
export function trafficBetween(proxy: CaProxy, startedAt: number, endedAt: number): Traffic {
    const requests = proxy.requests.filter((r) => r.startedAt >= startedAt && r.startedAt <= endedAt);
    const seen = new Set<string>();
    const trace = requests.map((request): TracedRequest => {
        const step = stepOf(request, seen.has(request.path));
        seen.add(request.path);
        return {
            step,
            method: request.method,
            status: request.status,
            at: request.startedAt - startedAt,
            durationMs: request.endedAt - request.startedAt,
        };
    });
    const bySteps: Partial<Record<Step, number>> = {};
    for (const { step } of trace) bySteps[step] = (bySteps[step] ?? 0) + 1;
    return { total: trace.length, bySteps, trace };
}

/** The first POST to an authorization (challenge) fetches (answers) it; later ones poll. */
function stepOf(request: ProxiedRequest, seenBefore: boolean): Step {
    switch (request.kind) {
        case "authz":
            return seenBefore ? "authz-poll" : "authz-get";
        case "challenge":
            return seenBefore ? "chal-poll" : "chal-respond";
        case "order":
            return "order-poll";
        default:
            return request.kind;
    }
}

/**
 * The fewest requests an order with `authorizations` authorizations can take, stored account: newOrder, each
 * authorization fetched and its challenge answered, one poll until ready, finalize, one poll until valid (Pebble
 * finalizes asynchronously), the certificate. A fresh process also needs the directory and a first nonce.
 */
export function protocolMinimum(authorizations: number, process: "warm" | "fresh"): number {
    return 2 * authorizations + (process === "warm" ? 5 : 7);
}

export function protocolMinimumFormula(process: "warm" | "fresh"): string {
    return process === "warm" ? "2N+5" : "2N+7";
}

export interface Gap {
    /** "finalize → order-poll" */
    between: string;
    ms: number;
}

/** Idle stretches of at least `minimumMs` between one request's answer and the next request. */
export function gapsOf(trace: readonly TracedRequest[], minimumMs = 20): Gap[] {
    const gaps: Gap[] = [];
    for (let index = 1; index < trace.length; index++) {
        const previous = trace[index - 1]!;
        const next = trace[index]!;
        const ms = next.at - (previous.at + previous.durationMs);
        if (ms >= minimumMs) gaps.push({ between: `${previous.step} → ${next.step}`, ms });
    }
    return gaps;
}

/** How long at least one request was in flight (overlapping requests count once). */
export function timeInRequests(trace: readonly TracedRequest[]): number {
    let total = 0;
    let coveredUntil = Number.NEGATIVE_INFINITY;
    for (const { at, durationMs } of [...trace].sort((a, b) => a.at - b.at)) {
        const end = at + durationMs;
        if (end <= coveredUntil) continue;
        total += end - Math.max(at, coveredUntil);
        coveredUntil = end;
    }
    return total;
}
