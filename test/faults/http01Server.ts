// A plain HTTP-01 web server (what nginx serving /.well-known/acme-challenge/ from a directory is): the tokens it
// was given, and 404 Not Found for every other path. The stack's challtestsrv answers unknown tokens with an empty
// 200 instead, so a test that wants the CA to meet a 404 starts a Pebble whose validator connects here.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

const PREFIX = "/.well-known/acme-challenge/";

export interface Http01Server {
    readonly port: number;
    serve(token: string, keyAuthorization: string): void;
    /** Paths requested so far, with the status answered. */
    readonly requests: ReadonlyArray<{ path: string; status: number }>;
    stop(): Promise<void>;
}

export async function startHttp01Server(): Promise<Http01Server> {
    const tokens = new Map<string, string>();
    const requests: Array<{ path: string; status: number }> = [];
    const server = http.createServer((req, res) => {
        const path = req.url ?? "/";
        const body = path.startsWith(PREFIX) ? tokens.get(path.slice(PREFIX.length)) : undefined;
        const status = body === undefined ? 404 : 200;
        requests.push({ path, status });
        res.writeHead(status, { "content-type": "text/plain" }).end(body ?? "404 page not found\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as AddressInfo).port,
        serve: (token, keyAuthorization) => tokens.set(token, keyAuthorization),
        requests,
        async stop() {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            await closed;
        },
    };
}
