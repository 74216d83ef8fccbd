// A Pulumi program of this repository as a harness stack against the test stack: its own state file, Route53 as
// the stack's BIND (the test zones as the fake AWS account's hosted zones), the CA a local Pebble (directory and
// CA bundle in stack config, as a user sets Let's Encrypt's). Shared by the program tests, the fault suite and the
// demo.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestStackInfo } from "../stack/index";
import type { RunOptions } from "./index";

/** The test stack's zones as Route53 hosted zones. */
export const HOSTED_ZONE_IDS = {
    "example.test": "ZEXAMPLETEST",
    "other.test": "ZOTHERTEST",
    "delegated.test": "ZDELEGATEDTEST",
} as const;

const HOSTED_ZONES = Object.fromEntries(Object.entries(HOSTED_ZONE_IDS).map(([name, id]) => [id, name]));

/** How the program reaches the CA: the test stack's Pebble, another Pebble, or a proxy in front of one. */
export interface CaEndpoint {
    directoryUrl: string;
    /** What to trust for its HTTPS (`acme:caCertificatesPem`). */
    caPem: string;
}

export interface ProgramStack {
    readonly dir: string;
    readonly state: string;
    /** The options of a harness run of this stack (extend them per run). */
    options(extra?: Partial<RunOptions>): RunOptions;
    /** The options of a run from state alone: refresh and destroy. */
    stateOptions(): RunOptions;
    remove(): void;
}

/**
 * A stack of `program` with its own state file (in `where.dir`, by default a new temporary directory), the CA in
 * `acme:directoryUrl` / `acme:caCertificatesPem` (by default the test stack's Pebble) and the program's `config`.
 */
export function programStack(
    stack: TestStackInfo,
    program: string,
    config: Record<string, unknown>,
    where: { ca?: CaEndpoint; dir?: string } = {},
): ProgramStack {
    const dir = where.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "program-stack-"));
    fs.mkdirSync(dir, { recursive: true });
    const state = path.join(dir, "dev.json");
    const ca = where.ca ?? { directoryUrl: stack.pebble.directoryUrl, caPem: stack.pebble.listenerCaPem };
    const services = { bind: stack.bind, http01: stack.http01, hostedZones: HOSTED_ZONES };
    const stackConfig = { "acme:directoryUrl": ca.directoryUrl, "acme:caCertificatesPem": ca.caPem, ...config };
    return {
        dir,
        state,
        options: (extra = {}) => ({ program, state, config: stackConfig, services, ...extra }),
        stateOptions: () => ({ state, services }),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
