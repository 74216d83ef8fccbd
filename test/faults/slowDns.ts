// A loopback UDP DNS relay in front of the stack's BIND that holds every answer back for a while (a nameserver that
// is slow to answer, so that a propagation check is still waiting when a test wants something to happen then), or
// refuses every query.
import * as dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import type { BindInfo } from "../stack/index";

export interface SlowDns {
    /** `127.0.0.1:<port>`, for propagation.nameservers. */
    readonly address: string;
    /** How long each answer is held back (Infinity: never answered); may be changed at any time. */
    delayMs: number;
    /** Answer every query at once with REFUSED instead (a nameserver that does not serve the zone). */
    refusing: boolean;
    /** Queries received so far. */
    readonly queries: number;
    stop(): Promise<void>;
}

export async function startSlowDns(bind: Pick<BindInfo, "port">, delayMs: number): Promise<SlowDns> {
    const socket = dgram.createSocket("udp4");
    let queries = 0;
    const relay = {
        address: "",
        delayMs,
        refusing: false,
        get queries() {
            return queries;
        },
        stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
    socket.on("message", (query, client) => {
        queries += 1;
        if (relay.refusing) {
            // The query itself, turned into a response (QR bit) with RCODE 5, REFUSED.
            const refused = Buffer.from(query);
            refused[2] = refused[2]! | 0x80;
            refused[3] = (refused[3]! & 0xf0) | 5;
            socket.send(refused, client.port, client.address, () => {});
            return;
        }
        const upstream = dgram.createSocket("udp4");
        upstream.once("message", (answer) => {
            upstream.close();
            // An infinite delay drops the answer: the client times out, as with a nameserver that never answers.
            if (Number.isFinite(relay.delayMs)) {
                setTimeout(() => socket.send(answer, client.port, client.address, () => {}), relay.delayMs);
            }
        });
        upstream.send(query, bind.port, "127.0.0.1");
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    relay.address = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
    return relay;
}
