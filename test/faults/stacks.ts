// Stacks of the fault suite's program (programs/acme) run through the harness: one state file per stack, the CA
// reached through a proxy, Route53 records applied to the stack's BIND.
import * as crypto from "node:crypto";
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunOptions } from "../harness/index";
import type { TestStackInfo } from "../stack/index";

export const PROGRAM = path.join(__dirname, "programs", "acme", "index.ts");
export const HOSTED_ZONE_ID = "Z0FAULTSEXAMPLE";

export interface ProgramStackOptions {
    /** The CA as the program reaches it. */
    ca: { directoryUrl: string; caPem: string };
    domains: string[];
    /** Where the Certificate checks propagation. @default the stack's BIND */
    nameservers?: string[];
    propagationTimeoutSeconds?: number;
    renewBefore?: string;
    eab?: { keyId: string; hmacKey: string };
}

export interface ProgramStack {
    readonly dir: string;
    readonly state: string;
    /** The options for a harness run of this stack (spread and extend them per run). */
    options(extra?: Partial<RunOptions>): RunOptions;
    remove(): void;
}

export function programStack(stack: TestStackInfo, options: ProgramStackOptions): ProgramStack {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-stack-"));
    const state = path.join(dir, "dev.json");
    const config: Record<string, unknown> = {
        "acme:directoryUrl": options.ca.directoryUrl,
        "acme:caCertificatesPem": options.ca.caPem,
        domains: options.domains,
        hostedZoneId: HOSTED_ZONE_ID,
        nameservers: options.nameservers ?? [stack.bind.address],
        ...(options.propagationTimeoutSeconds ? { propagationTimeoutSeconds: options.propagationTimeoutSeconds } : {}),
        ...(options.renewBefore ? { renewBefore: options.renewBefore } : {}),
        ...(options.eab ? { eabKeyId: options.eab.keyId, eabHmacKey: { secure: options.eab.hmacKey } } : {}),
    };
    const services = { bind: stack.bind, http01: stack.http01, hostedZones: { [HOSTED_ZONE_ID]: "example.test" } };
    return {
        dir,
        state,
        options: (extra = {}) => ({ program: PROGRAM, state, config, services, ...extra }),
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/** The TXT values BIND serves at `name` (empty when it has none). */
export async function txtValuesAt(stack: TestStackInfo, name: string): Promise<string[]> {
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 2 });
    resolver.setServers([stack.bind.address]);
    try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join("")).sort();
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === dns.NODATA || code === dns.NOTFOUND) return [];
        throw error;
    }
}

/** A unique first label for this test's names. */
export function uniqueLabel(prefix = "f"): string {
    return `${prefix}${crypto.randomBytes(5).toString("hex")}`;
}
