// The real test stack: BIND 9 (authoritative DNS with RFC 2136 updates), Pebble (ACME CA) validating against it,
// and an HTTP-01 responder. Started once per test run by vitest's globalSetup, or by scripts (demo, bench).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BindInfo, type BindServer, startBind } from "./bind";
import { type Http01Info, type Http01Server, startHttp01Responder } from "./http01";
import { type PebbleInfo, type PebbleOptions, type PebbleServer, startPebble } from "./pebble";

export type { BindInfo } from "./bind";
export { DnsUpdater } from "./bind";
export type { Http01Info } from "./http01";
export { Http01Responder } from "./http01";
export type { PebbleInfo, PebbleOptions, PebbleServer } from "./pebble";
export { httpsGet, pebbleCertificateStatus, pebbleIntermediatePem, pebbleRootPem, startPebble } from "./pebble";
export { INSTALL_HINT } from "./processes";

/** The addresses of a running stack, as handed to tests (JSON-serializable). */
export interface TestStackInfo {
    readonly dir: string;
    readonly bind: BindInfo;
    readonly pebble: PebbleInfo;
    readonly http01: Http01Info;
}

export interface TestStack extends TestStackInfo {
    /** Starts another Pebble against this stack's BIND (short-lived certificates, fault knobs, EAB). */
    startPebble(name: string, options?: PebbleOptions): Promise<PebbleServer>;
    stop(): Promise<void>;
}

export async function startTestStack(options: { pebble?: PebbleOptions } = {}): Promise<TestStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-stack-"));
    const started: Array<BindServer | PebbleServer | Http01Server> = [];
    const stopAll = async () => {
        for (const server of started.reverse()) await server.stop();
        started.length = 0;
    };
    try {
        const bind = await startBind(path.join(dir, "bind"));
        started.push(bind);
        const pebble = await startPebble(path.join(dir, "pebble"), bind.address, options.pebble);
        started.push(pebble);
        const http01 = await startHttp01Responder(path.join(dir, "http01"), pebble.httpPort);
        started.push(http01);
        return {
            dir,
            bind: { address: bind.address, port: bind.port, zones: bind.zones, tsigKeyFile: bind.tsigKeyFile },
            pebble: infoOf(pebble),
            http01: { port: http01.port, managementUrl: http01.managementUrl },
            async startPebble(name, pebbleOptions) {
                const extra = await startPebble(path.join(dir, `pebble-${name}`), bind.address, pebbleOptions);
                started.push(extra);
                return extra;
            },
            async stop() {
                await stopAll();
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    } catch (error) {
        await stopAll();
        throw error;
    }
}

export function infoOf(pebble: PebbleServer): PebbleInfo {
    const { directoryUrl, managementUrl, listenerCaPem, httpPort, validitySeconds } = pebble;
    return { directoryUrl, managementUrl, listenerCaPem, httpPort, validitySeconds };
}
