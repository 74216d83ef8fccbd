// Memory and CPU of running processes, read from /proc (Linux). RSS sums count pages shared between processes
// once per process, as `ps` does; VmHWM is the kernel's own peak-RSS mark for one process.
import * as fs from "node:fs";

const PAGE_BYTES = 4096;
const CLOCK_TICKS_PER_SECOND = 100;
const MB = 1024 * 1024;

interface ProcessStat {
    pid: number;
    command: string;
    parentPid: number;
    rssBytes: number;
    cpuMs: number;
    /** CPU of its children that have exited and been waited for. */
    exitedChildrenCpuMs: number;
}

/** /proc/<pid>/stat; null when the process is gone. The command name may hold spaces, so fields count from ")". */
function readStat(pid: number): ProcessStat | null {
    let text: string;
    try {
        text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
        return null;
    }
    // Fields after the name, from field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17, rss 24.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const field = (n: number) => Number(fields[n - 3]);
    const ms = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
    return {
        pid,
        command: text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
        parentPid: field(4),
        rssBytes: field(24) * PAGE_BYTES,
        cpuMs: ms(field(14) + field(15)),
        exitedChildrenCpuMs: ms(field(16) + field(17)),
    };
}

/** User + system CPU a process has used so far, in ms (10 ms resolution). */
export function cpuMsOf(pid: number): number {
    const stat = readStat(pid);
    if (!stat) throw new Error(`process ${pid} is gone`);
    return stat.cpuMs;
}

/**
 * CPU used so far (ms, 10 ms resolution) by this process, by its children that exited (the peers and their hooks),
 * and by its live children with the given command names (the test stack's servers): differences of two snapshots
 * show who worked during a run on the shared cores.
 */
export function cpuSnapshot(serverCommands: readonly string[]): Record<string, number> {
    const self = readStat(process.pid)!;
    const snapshot: Record<string, number> = { bench: self.cpuMs, "exited children": self.exitedChildrenCpuMs };
    for (const stat of allProcesses().values()) {
        if (stat.parentPid === process.pid && serverCommands.includes(stat.command)) {
            snapshot[stat.command] = (snapshot[stat.command] ?? 0) + stat.cpuMs;
        }
    }
    return snapshot;
}

export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(after).map(([name, ms]) => [name, ms - (before[name] ?? 0)]));
}

function allProcesses(): Map<number, ProcessStat> {
    const stats = new Map<number, ProcessStat>();
    for (const entry of fs.readdirSync("/proc")) {
        const pid = Number(entry);
        const stat = Number.isInteger(pid) ? readStat(pid) : null;
        if (stat) stats.set(pid, stat);
    }
    return stats;
}

/** The kernel's peak and current RSS of one process, in MB (/proc/<pid>/status VmHWM, VmRSS). */
export function memoryOf(pid: number): { peakRssMb: number; rssMb: number } {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { peakRssMb: kilobytes("VmHWM") / 1024, rssMb: kilobytes("VmRSS") / 1024 };
}

export interface TreeMemoryPeak {
    /** The largest sum of RSS over the trees seen in one sample, MB. */
    peakRssSumMb: number;
    /** The most processes alive in the trees in one sample. */
    peakProcesses: number;
    samples: number;
}

/**
 * Samples the RSS of every process in the trees rooted at `roots()` (hooks and their children included) every
 * `intervalMs` until stopped. One /proc scan per sample gives parents and RSS in the same read.
 */
export function sampleTreeMemory(roots: () => readonly number[], intervalMs = 25) {
    const peak: TreeMemoryPeak = { peakRssSumMb: 0, peakProcesses: 0, samples: 0 };
    const sample = () => {
        const rootSet = new Set(roots());
        if (rootSet.size === 0) return;
        const stats = allProcesses();
        const children = new Map<number, ProcessStat[]>();
        for (const stat of stats.values())
            children.set(stat.parentPid, [...(children.get(stat.parentPid) ?? []), stat]);
        let rssBytes = 0;
        let processes = 0;
        const queue = [...rootSet].flatMap((pid) => stats.get(pid) ?? []);
        for (let next = queue.pop(); next; next = queue.pop()) {
            rssBytes += next.rssBytes;
            processes += 1;
            queue.push(...(children.get(next.pid) ?? []));
        }
        peak.samples += 1;
        peak.peakRssSumMb = Math.max(peak.peakRssSumMb, rssBytes / MB);
        peak.peakProcesses = Math.max(peak.peakProcesses, processes);
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop(): TreeMemoryPeak {
            clearInterval(timer);
            sample();
            return { ...peak };
        },
    };
}
