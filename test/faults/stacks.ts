// Stacks of the fault suite's program (programs/acme) run through the harness: one state file per stack, the CA
// reached through a proxy, Route53 records applied to the stack's BIND.
import * as path from "node:path";
import {
    type CaEndpoint,
    HOSTED_ZONE_IDS,
    programStack as harnessStack,
    type ProgramStack,
} from "../harness/programStack";
import type { TestStackInfo } from "../stack/index";

export type { ProgramStack };

export const PROGRAM = path.join(__dirname, "programs", "acme", "index.ts");

export interface ProgramStackOptions {
    /** The CA as the program reaches it. */
    ca: CaEndpoint;
    domains: string[];
    /** Where the Certificate checks propagation. @default the stack's BIND */
    nameservers?: string[];
    propagationTimeoutSeconds?: number;
    renewBefore?: string;
    eab?: { keyId: string; hmacKey: string };
}

export function programStack(stack: TestStackInfo, options: ProgramStackOptions): ProgramStack {
    const config: Record<string, unknown> = {
        domains: options.domains,
        hostedZoneId: HOSTED_ZONE_IDS["example.test"],
        nameservers: options.nameservers ?? [stack.bind.address],
        ...(options.propagationTimeoutSeconds ? { propagationTimeoutSeconds: options.propagationTimeoutSeconds } : {}),
        ...(options.renewBefore ? { renewBefore: options.renewBefore } : {}),
        ...(options.eab ? { eabKeyId: options.eab.keyId, eabHmacKey: { secure: options.eab.hmacKey } } : {}),
    };
    return harnessStack(stack, PROGRAM, config, { ca: options.ca });
}
