// Run whole Pulumi programs end to end without a Pulumi CLI: `up`, `preview`, `refresh` and `destroy` each start
// the harness CLI in a child process (program process + provider host process, like a real `pulumi up`), so every
// run starts clean, and return its machine-readable result.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ConfigFile } from "./config";
import type { HostKill } from "./engine";
import type { Command, RunResult } from "./result";
import type { ServicesConfig } from "./services/types";

export { type Capture, type CaptureOptions, captureRegistrations } from "./capture";
export { DynamicProviderHost, serializeProvider } from "./host";
export type { Registration } from "./monitor";
export type { Command, OutputValue, RunResult, Step, StepOp } from "./result";
export { isSecretOutput } from "./result";
export type { ServicesConfig } from "./services/types";
export { exportStack, readState } from "./state";

export interface RunOptions {
    /** The stack's state file (created by the first up). Its key file sits beside it (`<state>.key`). */
    state: string;
    /** The program module: the index.ts of a Pulumi project (its directory holds Pulumi.yaml). up/preview only. */
    program?: string;
    /** Default "dev". */
    stack?: string;
    /** Stack config: `{"acme:directoryUrl": "…", "acme:eabKey": {"secure": "…"}}`; bare keys are the project's. */
    config?: ConfigFile;
    /** Where the emulated services are (BIND, HTTP-01 responder) and the hosted zones. */
    services?: ServicesConfig;
    /** up/preview: refresh first (`--refresh`). */
    refresh?: boolean;
    /** refresh: fail when anything drifted (`--expect-no-changes`). */
    expectNoChanges?: boolean;
    /** Moves the provider host's clock by this many seconds. */
    clockOffsetSeconds?: number;
    /** Where the provider host runs. Default: the repository root. */
    hostCwd?: string;
    /** Crash injection: SIGKILL the host during the first Create/Update of a resource type ending in `:<type>`. */
    killHostDuring?: HostKill;
    /** Extra environment for the program and the host (e.g. NODE_EXTRA_CA_CERTS). */
    env?: Record<string, string>;
    /** The run is killed (CLI and host) after this long. Default 120 s. */
    timeoutMs?: number;
}

/** A finished run: the result plus what the CLI printed (the human-readable plan and summary). */
export interface HarnessRun extends RunResult {
    display: string;
}

const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(__dirname, "cli.ts");
const TSX_LOADER = require.resolve("tsx", { paths: [REPOSITORY_ROOT] });

export const up = (options: RunOptions) => run("up", options);
export const preview = (options: RunOptions) => run("preview", options);
export const refresh = (options: RunOptions) => run("refresh", options);
export const destroy = (options: RunOptions) => run("destroy", options);

/** Throws, with the display, when the run failed: for tests that expect success. */
export function assertSucceeded(run: HarnessRun): void {
    if (!run.ok) throw new Error(`harness ${run.command} failed: ${run.error?.message}\n${run.display}`);
}

async function run(command: Command, options: RunOptions): Promise<HarnessRun> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "harness-run-"));
    try {
        const file = (name: string, content: unknown) => {
            const target = path.join(scratch, name);
            fs.writeFileSync(target, JSON.stringify(content));
            return target;
        };
        const resultFile = path.join(scratch, "result.json");
        const args = [command, "--state", path.resolve(options.state), "--result", resultFile];
        if (options.program) args.push("--program", path.resolve(options.program));
        if (options.stack) args.push("--stack", options.stack);
        if (options.config) args.push("--config", file("config.json", options.config));
        if (options.services) args.push("--services", file("services.json", options.services));
        if (options.refresh) args.push("--refresh");
        if (options.expectNoChanges) args.push("--expect-no-changes");
        if (options.clockOffsetSeconds) args.push("--clock-offset", String(options.clockOffsetSeconds));
        if (options.hostCwd) args.push("--host-cwd", path.resolve(options.hostCwd));
        if (options.killHostDuring) {
            args.push("--kill-host-during", `${options.killHostDuring.type}:${options.killHostDuring.afterMs}`);
        }
        const { code, stdout, stderr } = await spawnCli(args, options.env ?? {}, options.timeoutMs ?? 120_000);
        if (!fs.existsSync(resultFile)) {
            throw new Error(`harness ${command} ended (exit ${code}) without a result:\n${stdout}\n${stderr}`);
        }
        const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as RunResult;
        return { ...result, display: [stdout, stderr].filter(Boolean).join("\n") };
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function spawnCli(
    args: string[],
    env: Record<string, string>,
    timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        // tsx without the repository's `paths` mapping: packages resolve from node_modules, as in a real program.
        // Detached: the CLI leads a process group of its own, so a timeout can stop it together with its host.
        const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, ...args], {
            cwd: REPOSITORY_ROOT,
            env: { ...process.env, ...env, TSX_TSCONFIG_PATH: path.join(REPOSITORY_ROOT, "tsconfig.base.json") },
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => {
            stdout += chunk;
        });
        child.stderr.on("data", (chunk) => {
            stderr += chunk;
        });
        const timer = setTimeout(() => {
            process.kill(-child.pid!, "SIGKILL");
            reject(new Error(`harness ${args[0]} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        child.once("error", reject);
        child.once("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}
