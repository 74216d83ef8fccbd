// An HTTP-01 responder for the test stack: pebble-challtestsrv with only its HTTP-01 server enabled, on the
// port Pebble's validator connects to. Tokens are added and removed through its management API.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { freePort, type ManagedProcess, requireBinary, startProcess, waitUntilReady } from "./processes";

export interface Http01Info {
    /** Where Pebble's validator fetches `/.well-known/acme-challenge/<token>` (any Host name). */
    readonly port: number;
    readonly managementUrl: string;
}

export interface Http01Server extends Http01Info {
    readonly process: ManagedProcess;
    stop(): Promise<void>;
}

export async function startHttp01Responder(dir: string, port: number): Promise<Http01Server> {
    const challtestsrv = requireBinary("pebble-challtestsrv", "pebble");
    fs.mkdirSync(dir, { recursive: true });
    const managementPort = await freePort();
    const args = ["-http01", `127.0.0.1:${port}`, "-management", `127.0.0.1:${managementPort}`];
    const disabled = ["-dns01", "", "-https01", "", "-tlsalpn01", ""];
    const proc = startProcess("pebble-challtestsrv", challtestsrv, [...args, ...disabled], {
        logFile: path.join(dir, "challtestsrv.log"),
    });
    const managementUrl = `http://127.0.0.1:${managementPort}`;
    const responder = new Http01Responder({ port, managementUrl });
    await waitUntilReady(proc, async () => {
        await responder.remove("readiness-probe");
        return true;
    });
    return { port, managementUrl, process: proc, stop: () => proc.stop() };
}

/** Client of the responder's management API. */
export class Http01Responder {
    constructor(private readonly info: Http01Info) {}

    add(token: string, keyAuthorization: string): Promise<void> {
        return this.post("/add-http01", { token, content: keyAuthorization });
    }

    remove(token: string): Promise<void> {
        return this.post("/del-http01", { token });
    }

    private post(route: string, body: object): Promise<void> {
        return new Promise((resolve, reject) => {
            const request = http.request(
                `${this.info.managementUrl}${route}`,
                { method: "POST", timeout: 2000 },
                (r) => {
                    r.resume();
                    r.on("end", () =>
                        (r.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`${route}: HTTP ${r.statusCode}`)),
                    );
                },
            );
            request.on("timeout", () => request.destroy(new Error(`${route}: timed out`)));
            request.on("error", reject);
            request.end(JSON.stringify(body));
        });
    }
}
