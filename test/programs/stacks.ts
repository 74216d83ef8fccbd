// The repository's Pulumi programs (the examples and the main job) as harness stacks against the test stack:
// the CA is a local Pebble (directory and CA bundle from stack config, as a user sets Let's Encrypt's), Route53
// is the stack's BIND, and the certificate waits for its records at BIND itself. Shared by the tests and the demo.
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunOptions } from "../harness/index";
import type { BindInfo, PebbleInfo, TestStackInfo } from "../stack/index";

const ROOT = path.resolve(__dirname, "..", "..");

export const PROGRAMS = {
    route53KubernetesSecret: path.join(ROOT, "examples", "route53-kubernetes-secret", "index.ts"),
    route53AlbListener: path.join(ROOT, "examples", "route53-alb-listener", "index.ts"),
    http01Kubernetes: path.join(ROOT, "examples", "http01-kubernetes", "index.ts"),
    /** The directory, as the root Pulumi.yaml's `main: program/` names it (the harness finds Pulumi.yaml beside it). */
    mainJob: path.join(ROOT, "program"),
} as const;

/** The test stack's zones as the fake AWS account's Route53 hosted zones. */
export const HOSTED_ZONE_IDS = {
    "example.test": "ZEXAMPLETEST",
    "other.test": "ZOTHERTEST",
    "delegated.test": "ZDELEGATEDTEST",
} as const;

const HOSTED_ZONES = Object.fromEntries(Object.entries(HOSTED_ZONE_IDS).map(([name, id]) => [id, name]));

export const DAY = 86400;
/**
 * A clock offset past the default renewal point of the stack's 90-day certificates (a third of the lifetime before
 * expiry: day 60). Only the provider host's clock moves, not Pebble's: a certificate renewed at this offset is
 * again this old at this offset, so runs after a renewal go back to offset 0.
 */
export const PAST_RENEWAL_POINT = 61 * DAY;

export interface ProgramStack {
    readonly state: string;
    /** The options of a harness run of this stack. */
    options(extra?: Partial<RunOptions>): RunOptions;
    /** The options of a run from state alone: refresh and destroy. */
    stateOptions(): RunOptions;
    remove(): void;
}

/**
 * A stack of `program` with its own state file (in `dir`, by default a new temporary directory). Its config is
 * the CA's (`acme:directoryUrl`, `acme:caCertificatesPem`; by default the test stack's Pebble), a propagation
 * check at the stack's BIND, and the program's own `config`.
 */
export function programStack(
    stack: TestStackInfo,
    program: string,
    config: Record<string, unknown>,
    where: { pebble?: PebbleInfo; dir?: string } = {},
): ProgramStack {
    const dir = where.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "programs-stack-"));
    fs.mkdirSync(dir, { recursive: true });
    const state = path.join(dir, "dev.json");
    const services = { bind: stack.bind, http01: stack.http01, hostedZones: HOSTED_ZONES };
    const stackConfig = { ...localConfig(stack.bind, where.pebble ?? stack.pebble), ...config };
    return {
        state,
        options: (extra = {}) => ({ program, state, config: stackConfig, services, ...extra }),
        stateOptions: () => ({ state, services }),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/** The stack config that points a program at the local CA and DNS instead of Let's Encrypt and the internet. */
export function localConfig(bind: BindInfo, pebble: PebbleInfo): Record<string, unknown> {
    return {
        "acme:directoryUrl": pebble.directoryUrl,
        "acme:caCertificatesPem": pebble.listenerCaPem,
        propagation: { nameservers: [bind.address], timeoutSeconds: 10, intervalSeconds: 0.5 },
    };
}

/** The TXT values BIND serves at `name`, sorted; empty when it serves none. */
export async function txtValuesAt(bind: BindInfo, name: string): Promise<string[]> {
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 2 });
    resolver.setServers([bind.address]);
    try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join("")).sort();
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === dns.NODATA || code === dns.NOTFOUND) return [];
        throw error;
    }
}
