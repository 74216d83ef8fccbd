// The peers, lego and certbot (Debian packages), each a new process per certificate with a stored account, talking
// to the CA (straight to Pebble, or through the bench's counting proxy) and writing DNS-01 answers into the
// stack's BIND through hooks/txt-record.sh. Command lines as in shared/notes/perf-baselines.md.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BindInfo } from "../test/stack";
import { sampleTreeMemory, type TreeMemoryPeak } from "./procfs";
import { epochNow } from "./stats";

export type PeerName = "lego" | "lego-defaults" | "certbot";

/** Where the peers find the CA, the DNS and their state. */
export interface PeerEnvironment {
    /** The CA's directory: Pebble's own, or the proxy's. */
    directoryUrl: string;
    /** The certificate of that HTTPS listener, which the peers must trust. */
    caFile: string;
    bind: BindInfo;
    /** The BIND zone every bench name is in. */
    zone: string;
    /**
     * Accounts and certificates of both peers live here across runs. Both keep an account per directory URL, made
     * in the warm-up.
     */
    stateDir: string;
}

const HOOK = path.join(__dirname, "hooks", "txt-record.sh");
/** A run that takes longer has hung: fail rather than wait (lego's slowest path is 2 × 5.5 s of backoff). */
const RUN_TIMEOUT_MS = 120_000;

interface Command {
    command: string;
    args: string[];
    env: Record<string, string>;
    /** The file the peer writes the certificate to: its existence is how a run proves it issued. */
    certificateFile: string;
}

function commandFor(peer: PeerName, environment: PeerEnvironment, names: readonly string[]): Command {
    const hookEnv = {
        BENCH_BIND_PORT: String(environment.bind.port),
        BENCH_DNS_ZONE: environment.zone,
        BENCH_TSIG_KEY_FILE: environment.bind.tsigKeyFile,
    };
    if (peer === "certbot") {
        const dir = path.join(environment.stateDir, "certbot");
        return {
            command: "certbot",
            args: [
                "certonly",
                ...["--non-interactive", "--agree-tos", "--register-unsafely-without-email"],
                ...["--server", environment.directoryUrl],
                ...["--config-dir", `${dir}/config`, "--work-dir", `${dir}/work`, "--logs-dir", `${dir}/logs`],
                ...["--max-log-backups", "0", "--manual", "--preferred-challenges", "dns"],
                ...["--manual-auth-hook", `${HOOK} certbot-auth`, "--manual-cleanup-hook", `${HOOK} certbot-cleanup`],
                ...["--key-type", "ecdsa", "--elliptic-curve", "secp256r1", "--cert-name", names[0]!],
                ...names.flatMap((name) => ["-d", name]),
            ],
            env: { ...hookEnv, REQUESTS_CA_BUNDLE: environment.caFile },
            certificateFile: `${dir}/config/live/${names[0]}/fullchain.pem`,
        };
    }
    const dir = path.join(environment.stateDir, "lego");
    // Tuned: no sleep before the propagation check, none between challenges (defaults 2 s and 60 s).
    const intervals: Record<string, string> =
        peer === "lego" ? { EXEC_POLLING_INTERVAL: "0", EXEC_SEQUENCE_INTERVAL: "0" } : {};
    return {
        command: "lego",
        args: [
            ...["--server", environment.directoryUrl, "--path", dir, "--email", "bench@example.com", "--accept-tos"],
            ...[
                "--key-type",
                "ec256",
                "--dns",
                "exec",
                "--dns.resolvers",
                environment.bind.address,
                "--dns.disable-cp",
            ],
            ...names.flatMap((name) => ["--domains", name]),
            "run",
        ],
        env: { ...hookEnv, ...intervals, EXEC_PATH: HOOK, LEGO_CA_CERTIFICATES: environment.caFile },
        certificateFile: `${dir}/certificates/${names[0]}.crt`,
    };
}

export interface PeerRun {
    startedAt: number;
    endedAt: number;
}

interface Started {
    pid: number;
    finished: Promise<PeerRun>;
}

/** Spawns the peer; `finished` resolves at its exit, or rejects with its output when it failed. */
function start(peer: PeerName, environment: PeerEnvironment, names: readonly string[]): Started {
    const { command, args, env, certificateFile } = commandFor(peer, environment, names);
    const startedAt = epochNow();
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    const finished = new Promise<PeerRun>((resolve, reject) => {
        let endedAt = Number.NaN;
        child.once("exit", () => {
            endedAt = epochNow();
            clearTimeout(timer);
        });
        child.once("error", reject);
        child.once("close", (code, signal) => {
            const failed =
                code !== 0
                    ? `exited with ${code ?? signal}`
                    : !fs.existsSync(certificateFile) && "wrote no certificate";
            if (!failed) return resolve({ startedAt, endedAt });
            const tail = output.trimEnd().split("\n").slice(-25).join("\n");
            reject(new Error(`${peer} for ${names.join(", ")} ${failed}:\n${tail}`));
        });
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return { pid: child.pid, finished };
}

/** One certificate, one process: timed from spawn to exit. */
export function runPeer(peer: PeerName, environment: PeerEnvironment, names: readonly string[]): Promise<PeerRun> {
    return start(peer, environment, names).finished;
}

/**
 * One process per certificate, all started at once; with `sampleMemory`, memory summed over their process trees
 * (hooks included). Sampling scans /proc every 25 ms, which is work on the shared cores: timed runs go without.
 */
export async function runPeersAtOnce(
    peer: PeerName,
    environment: PeerEnvironment,
    nameSets: readonly (readonly string[])[],
    { sampleMemory }: { sampleMemory: boolean },
): Promise<PeerRun & { memory: TreeMemoryPeak | null }> {
    const live = new Set<number>();
    const sampler = sampleMemory ? sampleTreeMemory(() => [...live]) : null;
    const startedAt = epochNow();
    const runs = nameSets.map((names) => {
        const started = start(peer, environment, names);
        live.add(started.pid);
        return started.finished.finally(() => live.delete(started.pid));
    });
    const results = await Promise.allSettled(runs);
    const endedAt = epochNow();
    const memory = sampler?.stop() ?? null;
    const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason as Error] : []));
    if (failures.length > 0) {
        throw new Error(
            `${failures.length} of ${nameSets.length} ${peer} processes failed; the first:\n${failures[0]!.message}`,
        );
    }
    return { startedAt, endedAt, memory };
}

/** The Debian package version of a peer, for the results file. */
export function peerVersion(peer: "lego" | "certbot"): string {
    // "lego\t4.9.1-1"
    const line = execFileSync("dpkg-query", ["--show", peer], { encoding: "utf8" });
    return line.trim().split("\t")[1] ?? "unknown";
}
