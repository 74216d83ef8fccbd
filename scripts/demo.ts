// The demo (`npm run demo`, through scripts/demo.sh): the main job (Pulumi.yaml, program/) run end to end on this
// machine, against a local Pebble (Let's Encrypt's test CA) and BIND 9 standing in for Route53, through the test
// harness's engine and Pulumi's real dynamic-provider host. It issues, checks what was delivered with real TLS
// handshakes, shows that a second run changes nothing and that a run past the renewal point would renew, prints
// what was issued and where, and stops everything it started. Exit 0 on success, 1 with the reason otherwise.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assertSucceeded, type HarnessRun, preview, up } from "../test/harness/index";
import { deliveredSecret } from "../test/programs/delivered";
import { PAST_RENEWAL_POINT, PROGRAMS, programStack } from "../test/programs/stacks";
import { handshakeEachName } from "../test/programs/tls";
import { pebbleRootPem, startTestStack, type TestStack } from "../test/stack/index";

const DOMAINS = ["demo.example.test", "*.demo.example.test"];
/** Kept for a look afterwards, outside the repository; each demo starts it afresh. */
const STATE_DIR = path.join(os.tmpdir(), "pulumi-acme-certs-demo");

class DemoFailure extends Error {}

async function main(): Promise<void> {
    console.log("pulumi-acme-certs demo: the main job against a local Pebble + BIND (no cloud account, no internet)\n");
    const stack = await step("starting the local test stack (BIND 9, Pebble, HTTP-01 responder)", async () => {
        const started = await startTestStack({ pebble: { validitySeconds: 90 * 86400 } });
        stopOnSignal(started);
        return { result: started, note: `Pebble ${started.pebble.directoryUrl}, BIND ${started.bind.address}` };
    });
    try {
        await demonstrate(stack);
    } finally {
        await step("stopping the local test stack", async () => ({ result: await stack.stop() }));
    }
}

async function demonstrate(stack: TestStack): Promise<void> {
    fs.rmSync(STATE_DIR, { recursive: true, force: true });
    const job = programStack(
        stack,
        PROGRAMS.mainJob,
        { domains: DOMAINS, zone: "example.test", delivery: "kubernetes-secret", namespace: "demo" },
        { dir: STATE_DIR },
    );

    const first = await step(`pulumi up: a certificate for ${DOMAINS.join(", ")}`, async () => {
        const run = succeeded(await up(job.options()));
        return { result: run, note: `${run.steps.filter((s) => s.op === "create").length} resources created` };
    });

    const rootPem = await pebbleRootPem(stack.pebble);
    await step("TLS handshakes with the delivered Secret's tls.crt/tls.key, trusting only Pebble's root", async () => {
        const secret = deliveredSecret(job.state);
        const handshakes = await handshakeEachName({
            certificateChainPem: secret.tlsCrt,
            privateKeyPem: secret.tlsKey,
            rootPem,
            names: DOMAINS,
        });
        const failed = handshakes.filter((handshake) => !handshake.authorized);
        if (failed.length > 0) {
            const why = failed.map((h) => `${h.name}: ${h.authorizationError}`).join("; ");
            throw new DemoFailure(`the delivered certificate does not verify: ${why}`);
        }
        return { result: handshakes, note: handshakes.map((h) => `${h.sni} verified`).join(", ") };
    });

    await step("pulumi up again: nothing to do", async () => {
        const run = succeeded(await up(job.options()));
        const changes = run.steps.filter((s) => s.op !== "same");
        if (changes.length > 0) {
            throw new DemoFailure(`the second up changed ${changes.map((s) => `${s.op} ${s.name}`).join(", ")}`);
        }
        return { result: run, note: `${run.steps.length} resources unchanged` };
    });

    const renewal = await step(
        `pulumi preview --refresh with the clock ${PAST_RENEWAL_POINT / 86400} days ahead (past renewAt)`,
        async () => {
            const run = succeeded(
                await preview(job.options({ refresh: true, clockOffsetSeconds: PAST_RENEWAL_POINT })),
            );
            const planned = run.steps.filter((s) => s.op === "update" || s.op === "replace");
            if (!planned.some((s) => s.name === "site-order") || !planned.some((s) => s.name === "site-certificate")) {
                throw new DemoFailure("the preview past the renewal point does not renew the certificate");
            }
            return { result: planned, note: `${planned.length} updates planned, none made` };
        },
    );
    for (const planned of renewal)
        console.log(`      ~ ${planned.op} ${planned.type.split(":").pop()} ${planned.name}`);

    const outputs = first.outputs;
    console.log(`
Issued by ${outputs.issuer} (Pebble, standing in for Let's Encrypt):
  names       ${(outputs.dnsNames as string[]).join(", ")}
  serial      ${outputs.serialNumber}
  valid       ${outputs.notBefore} to ${outputs.notAfter}
  renews at   ${outputs.renewAt}  (the first \`pulumi up --refresh\` after this renews it)
Delivered to ${outputs.deliveredTo} (an emulated cluster: the harness validates and records it)
Stack state (the harness's, secrets encrypted): ${job.state}
`);
}

/** One numbered line per step: what, then ok (with a note) or the failure. */
let stepNumber = 0;
async function step<T>(title: string, action: () => Promise<{ result: T; note?: string }>): Promise<T> {
    stepNumber += 1;
    process.stdout.write(`${String(stepNumber).padStart(2)}. ${title} ... `);
    const started = Date.now();
    try {
        const { result, note } = await action();
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`ok (${seconds} s)${note ? `\n      ${note}` : ""}`);
        return result;
    } catch (error) {
        console.log("FAILED");
        throw error;
    }
}

function succeeded(run: HarnessRun): HarnessRun {
    try {
        assertSucceeded(run);
    } catch (error) {
        throw new DemoFailure((error as Error).message);
    }
    return run;
}

/** Ctrl-C still stops the stack's processes (by their PIDs). */
function stopOnSignal(stack: TestStack): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            console.log(`\n${signal}: stopping the local test stack`);
            stack.stop().finally(() => process.exit(130));
        });
    }
}

main().then(
    () => console.log("demo: ok"),
    (error: unknown) => {
        // A missing binary's message already says how to install it (test/stack/processes.ts).
        console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
    },
);
