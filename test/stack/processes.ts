// Child processes of the test stack: started with a log file, stopped by the PID we recorded, never by name.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as net from "node:net";

export const INSTALL_HINT = "sudo bash scripts/install-test-deps.sh   (apt-get install pebble bind9 bind9-dnsutils)";

/** Fails with the install command when a binary of the test stack is missing. Tests are never skipped for it. */
export function requireBinary(binary: string, debianPackage: string): string {
    for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin"])) {
        const candidate = `${dir}/${binary}`;
        if (dir && fs.existsSync(candidate)) return candidate;
    }
    throw new Error(
        `The test stack needs \`${binary}\` (Debian package ${debianPackage}), which is not installed.\n` +
            `Install it with: ${INSTALL_HINT}`,
    );
}

/** A loopback port that is free for both TCP and UDP at the time of asking (DNS needs both). */
export async function freePort(): Promise<number> {
    for (;;) {
        const port = await new Promise<number>((resolve, reject) => {
            const server = net.createServer();
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => {
                const address = server.address() as net.AddressInfo;
                server.close(() => resolve(address.port));
            });
        });
        const udpFree = await new Promise<boolean>((resolve) => {
            const socket = dgram.createSocket("udp4");
            socket.once("error", () => resolve(false));
            socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
        });
        if (udpFree) return port;
    }
}

export interface ManagedProcess {
    readonly name: string;
    readonly pid: number;
    readonly logFile: string;
    readonly alive: boolean;
    /** The last lines the process wrote, for error messages. */
    tail(lines?: number): string;
    stop(): Promise<void>;
}

/** PIDs started by this Node process, so an abrupt exit still stops them (by PID). */
const running = new Map<number, ChildProcess>();
process.once("exit", () => {
    for (const pid of running.keys()) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // already gone
        }
    }
});

export function startProcess(
    name: string,
    command: string,
    args: string[],
    options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ManagedProcess {
    const log = fs.openSync(options.logFile, "a");
    const child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const pid = child.pid;
    running.set(pid, child);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.once("exit", () => running.delete(pid));
    const tail = (lines = 20) => {
        try {
            return fs.readFileSync(options.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
        } catch {
            return "";
        }
    };
    return {
        name,
        pid,
        logFile: options.logFile,
        get alive() {
            return child.exitCode === null && child.signalCode === null;
        },
        tail,
        async stop() {
            if (!this.alive) return;
            process.kill(pid, "SIGTERM");
            const killTimer = setTimeout(() => {
                if (child.exitCode === null && child.signalCode === null) process.kill(pid, "SIGKILL");
            }, 3000);
            await exited;
            clearTimeout(killTimer);
        },
    };
}

/** Polls `probe` until it resolves true, failing with the process log when it exits or time runs out. */
export async function waitUntilReady(
    proc: ManagedProcess,
    probe: () => Promise<boolean>,
    { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (!proc.alive) throw new Error(`${proc.name} exited during start-up:\n${proc.tail()}`);
        if (await probe().catch(() => false)) return;
        if (Date.now() > deadline) {
            throw new Error(`${proc.name} was not ready after ${timeoutMs} ms:\n${proc.tail()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

export function run(command: string, args: string[], input?: string): string {
    return execFileSync(command, args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}
