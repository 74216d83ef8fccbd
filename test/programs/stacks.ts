// The repository's Pulumi programs (the examples and the main job) as harness stacks against the test stack:
// the CA is a local Pebble (directory and CA bundle from stack config, as a user sets Let's Encrypt's), Route53
// is the stack's BIND, and the certificate waits for its records at BIND itself. Shared by the tests and the demo.
import * as path from "node:path";
import { programStack as harnessStack, type ProgramStack } from "../harness/programStack";
import type { PebbleInfo, TestStackInfo } from "../stack/index";

const ROOT = path.resolve(__dirname, "..", "..");

export const PROGRAMS = {
    route53KubernetesSecret: path.join(ROOT, "examples", "route53-kubernetes-secret", "index.ts"),
    route53AlbListener: path.join(ROOT, "examples", "route53-alb-listener", "index.ts"),
    http01Kubernetes: path.join(ROOT, "examples", "http01-kubernetes", "index.ts"),
    /** The directory, as the root Pulumi.yaml's `main: program/` names it (the harness finds Pulumi.yaml beside it). */
    mainJob: path.join(ROOT, "program"),
} as const;

export { HOSTED_ZONE_IDS, type ProgramStack } from "../harness/programStack";

export const DAY = 86400;
/**
 * A clock offset past the default renewal point of the stack's 90-day certificates (a third of the lifetime before
 * expiry: day 60). Only the provider host's clock moves, not Pebble's: a certificate renewed at this offset is
 * again this old at this offset, so runs after a renewal go back to offset 0.
 */
export const PAST_RENEWAL_POINT = 61 * DAY;

/**
 * A stack of one of the repository's programs, whose certificates wait for their records at the stack's BIND
 * (the programs' `propagation` config) and whose CA is `where.pebble` (default: the test stack's).
 */
export function programStack(
    stack: TestStackInfo,
    program: string,
    config: Record<string, unknown>,
    where: { pebble?: PebbleInfo; dir?: string } = {},
): ProgramStack {
    const pebble = where.pebble ?? stack.pebble;
    return harnessStack(
        stack,
        program,
        { propagation: { nameservers: [stack.bind.address], timeoutSeconds: 10, intervalSeconds: 0.5 }, ...config },
        {
            ca: { directoryUrl: pebble.directoryUrl, caPem: pebble.listenerCaPem },
            ...(where.dir ? { dir: where.dir } : {}),
        },
    );
}

export { txtValuesAt } from "../stack/bind";
