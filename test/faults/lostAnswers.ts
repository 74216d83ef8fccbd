// A second loopback HTTPS proxy, in front of a CaProxy, for the faults the CaProxy cannot make: the CA did the work,
// but its answer never reached the client. A dropped answer ends the connection once the CA has answered (the
// client sees ECONNRESET and retries); a held answer is never sent (the client waits until it gives up, or is
// killed). Everything else is forwarded unchanged, the Host header included, so Pebble's URLs keep pointing here
// and the CaProxy still counts every request.
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { type CaProxy, forward, type RequestKind, readAll, requestKind } from "../stack/caProxy";
import { selfSignedListenerCertificate } from "../stack/pebble";

export interface LostAnswerProxy {
    readonly directoryUrl: string;
    readonly caPem: string;
    /** Drop the answer to the next `times` requests of `kind`, after the CA has handled them. */
    loseAnswers(kind: RequestKind, times: number): void;
    /** Never send the answer to the next `times` requests `match` accepts (it sees every request's kind, in order). */
    holdAnswers(match: (kind: RequestKind) => boolean, times: number): void;
    /** How many answers were dropped or held so far. */
    readonly lost: number;
    stop(): Promise<void>;
}

interface Rule {
    match: (kind: RequestKind) => boolean;
    remaining: number;
    action: "drop" | "hold";
}

export async function startLostAnswerProxy(inner: CaProxy): Promise<LostAnswerProxy> {
    const upstream = new URL(inner.directoryUrl);
    const agent = new https.Agent({ keepAlive: true, ca: inner.caPem });
    const listener = await selfSignedListenerCertificate();
    const rules: Rule[] = [];
    let lost = 0;

    const server = https.createServer({ key: listener.privateKeyPem, cert: listener.certificatePem }, (req, res) => {
        const kind = requestKind(req.url ?? "/");
        // Decided on arrival, so that a rule sees the requests in the order the client sent them.
        const rule = rules.find((candidate) => candidate.remaining > 0 && candidate.match(kind));
        if (rule) rule.remaining -= 1;
        readAll(req)
            .then((body) => forward(req, body, upstream, agent))
            .then((answer) => {
                if (rule) {
                    lost += 1;
                    if (rule.action === "drop") req.socket.destroy();
                    return;
                }
                res.writeHead(answer.status, answer.headers).end(answer.body);
            })
            .catch((error: Error) => res.writeHead(502).end(`lost-answer proxy: ${error.message}`));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        directoryUrl: `https://127.0.0.1:${port}${upstream.pathname}`,
        caPem: listener.certificatePem,
        loseAnswers(kind, times) {
            rules.push({ match: (candidate) => candidate === kind, remaining: times, action: "drop" });
        },
        holdAnswers(match, times) {
            rules.push({ match, remaining: times, action: "hold" });
        },
        get lost() {
            return lost;
        },
        async stop() {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            agent.destroy();
            await closed;
        },
    };
}
