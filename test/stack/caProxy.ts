// A TLS-terminating loopback proxy in front of a Pebble, for suites that count a client's requests by RFC 8555
// route or inject faults: an answer of our choosing (503, 429 with Retry-After), a reset connection, a delay.
import type * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { type PebbleInfo, selfSignedListenerCertificate } from "./pebble";

/** The RFC 8555 resource a request is for. */
export type RequestKind =
    | "directory"
    | "newNonce"
    | "newAccount"
    | "account"
    | "newOrder"
    | "order"
    | "authz"
    | "challenge"
    | "finalize"
    | "certificate"
    | "revoke"
    | "other";

/** Pebble 2.4's paths (wfe/wfe.go); a path ending in "/" is followed by the object's id. */
const PEBBLE_ROUTES: ReadonlyArray<readonly [path: string, kind: RequestKind]> = [
    ["/dir", "directory"],
    ["/nonce-plz", "newNonce"],
    ["/sign-me-up", "newAccount"],
    ["/my-account/", "account"],
    ["/order-plz", "newOrder"],
    ["/my-order/", "order"],
    ["/authZ/", "authz"],
    ["/chalZ/", "challenge"],
    ["/finalize-order/", "finalize"],
    ["/certZ/", "certificate"],
    ["/revoke-cert", "revoke"],
];

export function requestKind(path: string): RequestKind {
    const route = PEBBLE_ROUTES.find(([prefix]) => (prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix));
    return route?.[1] ?? "other";
}

/** One request as the proxy saw it. Times are epoch milliseconds (fractional). */
export interface ProxiedRequest {
    method: string;
    path: string;
    kind: RequestKind;
    /** The status the client got; null when the proxy reset the connection. */
    status: number | null;
    startedAt: number;
    endedAt: number;
}

export type FaultAction =
    /** Answer instead of Pebble. */
    | { type: "respond"; status: number; headers?: Record<string, string>; body?: string }
    /** Destroy the client's socket without answering ("socket hang up" / ECONNRESET for the client). */
    | { type: "reset" }
    /** Wait, then forward as usual. */
    | { type: "delay"; ms: number };

export interface Fault {
    match: (request: { method: string; path: string; kind: RequestKind }) => boolean;
    /** How many matching requests it applies to; Infinity for a fault that never clears. */
    times: number;
    action: FaultAction;
}

export interface CaProxy {
    /** Pebble's directory, through the proxy. */
    readonly directoryUrl: string;
    /** The proxy's own self-signed certificate: what clients must trust (caCertificatesPem). */
    readonly caPem: string;
    /** Every request since the start or the last resetCounts(), in arrival order. */
    readonly requests: readonly ProxiedRequest[];
    /** How many requests of each kind are in `requests`. */
    countByKind(): Partial<Record<RequestKind, number>>;
    resetCounts(): void;
    /** Faults apply in the order they were added; each matching request uses up one of a fault's `times`. */
    addFault(fault: Fault): void;
    clearFaults(): void;
    stop(): Promise<void>;
}

/**
 * Starts a proxy on a free 127.0.0.1 port. The Host header is forwarded as the client sent it: Pebble builds
 * every URL it returns (directory, Location, Link) from it, so clients keep talking to the proxy, and it checks
 * each JWS `url` against it, so a rewritten Host would break every signed request.
 */
export async function startCaProxy(pebble: Pick<PebbleInfo, "directoryUrl" | "listenerCaPem">): Promise<CaProxy> {
    const upstream = new URL(pebble.directoryUrl);
    const upstreamAgent = new https.Agent({ keepAlive: true, ca: pebble.listenerCaPem });
    const listener = await selfSignedListenerCertificate();
    const requests: ProxiedRequest[] = [];
    const faults: Array<Fault & { remaining: number }> = [];

    const takeFault = (request: { method: string; path: string; kind: RequestKind }) => {
        const fault = faults.find((candidate) => candidate.remaining > 0 && candidate.match(request));
        if (fault) fault.remaining -= 1;
        return fault?.action;
    };

    const server = https.createServer({ key: listener.privateKeyPem, cert: listener.certificatePem }, (req, res) => {
        const path = req.url ?? "/";
        const entry: ProxiedRequest = {
            method: req.method ?? "GET",
            path,
            kind: requestKind(path),
            status: null,
            startedAt: now(),
            endedAt: Number.NaN,
        };
        requests.push(entry);
        const finish = (status: number | null) => {
            entry.status = status;
            entry.endedAt = now();
        };
        relay(req, res, takeFault(entry), upstream, upstreamAgent).then(finish, (error: Error) => {
            res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${error.message}`);
            finish(502);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;

    return {
        directoryUrl: `https://127.0.0.1:${port}${upstream.pathname}`,
        caPem: listener.certificatePem,
        requests,
        countByKind() {
            const counts: Partial<Record<RequestKind, number>> = {};
            for (const { kind } of requests) counts[kind] = (counts[kind] ?? 0) + 1;
            return counts;
        },
        resetCounts() {
            requests.length = 0;
        },
        addFault(fault) {
            faults.push({ ...fault, remaining: fault.times });
        },
        clearFaults() {
            faults.length = 0;
        },
        async stop() {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            upstreamAgent.destroy();
            await closed;
        },
    };
}

/** Applies `fault` or forwards the request to Pebble; resolves with the status sent (null after a reset). */
async function relay(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    fault: FaultAction | undefined,
    upstream: URL,
    agent: https.Agent,
): Promise<number | null> {
    const body = await readAll(req);
    if (fault?.type === "reset") {
        req.socket.destroy();
        return null;
    }
    if (fault?.type === "respond") {
        res.writeHead(fault.status, fault.headers).end(fault.body ?? "");
        return fault.status;
    }
    if (fault?.type === "delay") await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const answer = await forward(req, body, upstream, agent);
    res.writeHead(answer.status, answer.headers).end(answer.body);
    return answer.status;
}

/** Headers about one connection, not the message; Content-Length is set again for the buffered body. */
const HOP_BY_HOP_HEADERS = ["connection", "keep-alive", "transfer-encoding", "content-length"];

/** Sends `req` (with its already-read `body`) to `upstream` and reads the whole answer. */
export function forward(
    req: http.IncomingMessage,
    body: Buffer,
    upstream: URL,
    agent: https.Agent,
): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
        const request = https.request(
            {
                host: upstream.hostname,
                port: upstream.port,
                method: req.method,
                path: req.url,
                headers: req.headers,
                agent,
            },
            (response) => {
                readAll(response).then((responseBody) => {
                    const headers: http.OutgoingHttpHeaders = { ...response.headers };
                    for (const name of HOP_BY_HOP_HEADERS) delete headers[name];
                    headers["content-length"] = responseBody.length;
                    resolve({ status: response.statusCode ?? 502, headers, body: responseBody });
                }, reject);
            },
        );
        request.on("error", reject);
        request.end(body);
    });
}

export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
    });
}

function now(): number {
    return performance.timeOrigin + performance.now();
}
