// What one bench run measured, as one table for people, a list of goals, and the same data as JSON. Times come
// from runs straight to Pebble; requests, their structure and peak RSS from separate runs through the counting
// proxy, whose ≈2 ms per request would change who wins Pebble's polling races (shared/notes/perf-baselines.md).
import type { KeygenResult } from "./keygen";
import type { TreeMemoryPeak } from "./procfs";
import { formatCount, formatDuration, formatRatio, type Summary, summarize } from "./stats";
import { gapsOf, protocolMinimum, type Step, type Traffic, timeInRequests } from "./traffic";

export type ClientName = "ours" | "ours-cold" | "lego" | "lego-defaults" | "certbot";
export type Scenario = "one-name" | "apex-wildcard";
/** How a run reached the CA: straight to Pebble (its wall time counts), or through the proxy (its requests count). */
export type Route = "direct" | "proxied";
export const ROUTES: readonly Route[] = ["direct", "proxied"];

/** A mark relative to the start of its run. */
export interface RelativeMark {
    label: string;
    at: number;
    durationMs: number;
}

/** One certificate issued by one client. */
export interface RunRecord {
    scenario: Scenario;
    client: ClientName;
    round: number;
    warmup: boolean;
    route: Route;
    names: string[];
    wallMs: number;
    /** Proxied runs only: the requests the proxy saw. */
    traffic?: Traffic;
    /** Ours only: resource steps and records, and the host's CPU. */
    marks?: RelativeMark[];
    hostCpuMs?: number;
}

/** Many certificates at once: ours in one host, lego as one process each. */
export interface ManyRecord {
    client: "ours" | "lego";
    round: number;
    warmup: boolean;
    route: Route;
    certificates: number;
    wallMs: number;
    /** Proxied runs only. */
    requests?: number;
    /** Proxied runs only: RSS summed over the process trees (lego) or of the host (ours), sampled every 25 ms. */
    memory?: TreeMemoryPeak;
    /** Ours, proxied runs only: the host's VmHWM after the run (its peak since it started). */
    hostPeakRssMb?: number;
    /** Ours only: its phases. */
    phases?: RelativeMark[];
    /**
     * Who used the shared cores during the run: the host, this process (the CA proxy in proxied runs), the peers,
     * Pebble, BIND.
     */
    cpuMs: Record<string, number>;
}

export interface DiffRecord {
    mode: "in-process" | "rpc";
    round: number;
    warmup: boolean;
    diffs: number;
    wallMs: number;
    requests: number;
}

export interface Results {
    startedAt: string;
    quick: boolean;
    environment: Record<string, string | number>;
    runs: RunRecord[];
    many: ManyRecord[];
    diffs: DiffRecord[];
    keygen: KeygenResult[];
    /** The apex + wildcard row of lego with exec defaults, taken from the notes instead of measured. */
    notMeasured: { legoDefaultsApexWildcardMs: Summary; source: string };
    table: Row[];
    goals: Goal[];
}

export interface Row {
    scenario: string;
    ours: string;
    lego: string;
    certbot: string;
    oursOverLego: string;
    oursOverCertbot: string;
    requests: string;
    minimum: string;
}

export interface Goal {
    goal: string;
    met: boolean;
    measured: string;
}

const NAMES_IN: Record<Scenario, number> = { "one-name": 1, "apex-wildcard": 2 };
const SCENARIO_TITLE: Record<Scenario, string> = { "one-name": "1 name", "apex-wildcard": "apex + wildcard" };

/** The runs after the warm-up. */
const measured = <T extends { warmup: boolean }>(records: readonly T[]) => records.filter((r) => !r.warmup);

/** Runs split by route (timed direct, counted through the proxy); undefined unless there are both. */
function byRoute<T extends { route: "direct" | "proxied" }>(runs: readonly T[]) {
    const direct = runs.filter((r) => r.route === "direct");
    const proxied = runs.filter((r) => r.route === "proxied");
    return direct.length > 0 && proxied.length > 0 ? { direct, proxied } : undefined;
}

/**
 * One client in one scenario: its wall time from the direct runs, its requests from the proxied ones; undefined
 * when it did not run both ways.
 */
export function runsOf(results: Pick<Results, "runs">, scenario: Scenario, client: ClientName) {
    const routes = byRoute(measured(results.runs).filter((r) => r.scenario === scenario && r.client === client));
    if (routes === undefined) return undefined;
    const { direct, proxied } = routes;
    return {
        direct,
        proxied,
        wall: summarize(direct.map((r) => r.wallMs)),
        requests: summarize(proxied.map((r) => r.traffic!.total)),
    };
}

function manyOf(results: Pick<Results, "many">, client: ManyRecord["client"]) {
    const routes = byRoute(measured(results.many).filter((r) => r.client === client));
    if (routes === undefined) return undefined;
    const { direct, proxied } = routes;
    return {
        direct,
        proxied,
        wall: summarize(direct.map((r) => r.wallMs)),
        requestsPerCertificate: summarize(proxied.map((r) => r.requests! / r.certificates)),
        peakRssSumMb: summarize(proxied.map((r) => r.memory!.peakRssSumMb)),
        hostPeakRssMb: Math.max(...proxied.map((r) => r.hostPeakRssMb ?? 0)),
    };
}

function diffsOf(results: Pick<Results, "diffs">, mode: DiffRecord["mode"]) {
    const runs = measured(results.diffs).filter((r) => r.mode === mode);
    if (runs.length === 0) return undefined;
    return { runs, wall: summarize(runs.map((r) => r.wallMs)), requests: summarize(runs.map((r) => r.requests)) };
}

const dash = "—";
const show = (summary: Summary | undefined) => (summary ? formatDuration(summary) : dash);
const ratio = (ours: Summary | undefined, theirs: Summary | undefined) =>
    ours && theirs ? formatRatio(ours.median, theirs.median) : dash;
const requestCounts = (...summaries: Array<Summary | undefined>) =>
    summaries.map((s) => (s ? formatCount(s) : dash)).join(" | ");

export function buildTable(results: Omit<Results, "table" | "goals">): Row[] {
    const rows: Row[] = [];
    for (const scenario of ["one-name", "apex-wildcard"] as const) {
        const n = NAMES_IN[scenario];
        const [ours, cold, lego, legoDefaults, certbot] = (
            ["ours", "ours-cold", "lego", "lego-defaults", "certbot"] as const
        ).map((client) => runsOf(results, scenario, client));
        const minimum = `${protocolMinimum(n, "warm")} warm / ${protocolMinimum(n, "fresh")} fresh`;
        const title = SCENARIO_TITLE[scenario];
        const row = (label: string, oursRun: typeof ours, legoWall: Summary | undefined, legoText?: string): Row => ({
            scenario: `${title}, ${label}`,
            ours: show(oursRun?.wall),
            lego: legoText ?? show(legoWall),
            certbot: show(certbot?.wall),
            oursOverLego: ratio(oursRun?.wall, legoWall),
            oursOverCertbot: ratio(oursRun?.wall, certbot?.wall),
            requests: requestCounts(oursRun?.requests, legoText ? undefined : lego?.requests, certbot?.requests),
            minimum,
        });
        rows.push(row("warm host (DNS-01)", ours, lego?.wall));
        rows.push(row("cold host (start-up included)", cold, lego?.wall));
        if (scenario === "one-name" && legoDefaults) {
            rows.push({
                ...row("lego exec defaults", ours, legoDefaults.wall),
                requests: requestCounts(ours?.requests, legoDefaults.requests, certbot?.requests),
            });
        }
        if (scenario === "apex-wildcard" && !results.quick) {
            const fromNotes = results.notMeasured.legoDefaultsApexWildcardMs;
            rows.push(
                row("lego exec defaults (60 s sequence)", ours, fromNotes, `${formatDuration(fromNotes)} [notes]`),
            );
        }
    }
    const [oursMany, legoMany] = [manyOf(results, "ours"), manyOf(results, "lego")];
    const count = results.many[0]?.certificates ?? 0;
    rows.push({
        scenario: `${count} certificates at once (ours: 1 host; lego: ${count} processes)`,
        ours: show(oursMany?.wall),
        lego: show(legoMany?.wall),
        certbot: dash,
        oursOverLego: ratio(oursMany?.wall, legoMany?.wall),
        oursOverCertbot: dash,
        requests: `${requestCounts(oursMany?.requestsPerCertificate, legoMany?.requestsPerCertificate)} per cert`,
        minimum: `${protocolMinimum(1, "warm")} warm / ${protocolMinimum(1, "fresh")} fresh`,
    });
    rows.push({
        scenario: `${count} at once, peak RSS [proxied runs] (ours: host VmHWM; lego: sum over process trees)`,
        ours: oursMany
            ? `${oursMany.hostPeakRssMb.toFixed(0)} MB (sampled ${oursMany.peakRssSumMb.median.toFixed(0)})`
            : dash,
        lego: legoMany ? `${legoMany.peakRssSumMb.median.toFixed(0)} MB` : dash,
        certbot: dash,
        oursOverLego: oursMany && legoMany ? formatRatio(oursMany.hostPeakRssMb, legoMany.peakRssSumMb.median) : dash,
        oursOverCertbot: dash,
        requests: dash,
        minimum: dash,
    });
    for (const [mode, label] of [
        ["in-process", "Certificate diff() in-process"],
        ["rpc", "Diff RPCs through the host"],
    ] as const) {
        const diffs = diffsOf(results, mode);
        rows.push({
            scenario: `${label} × ${diffs?.runs[0]?.diffs ?? 0}, unchanged`,
            ours: show(diffs?.wall),
            lego: dash,
            certbot: dash,
            oursOverLego: dash,
            oursOverCertbot: dash,
            requests: diffs ? formatCount(diffs.requests) : dash,
            minimum: "0",
        });
    }
    for (const key of results.keygen) {
        rows.push({
            scenario: `key generation: ${key.label} (n=${key.summary.n})`,
            ours: formatDuration(key.summary),
            lego: dash,
            certbot: dash,
            oursOverLego: dash,
            oursOverCertbot: dash,
            requests: dash,
            minimum: dash,
        });
    }
    return rows;
}

export function judgeGoals(results: Omit<Results, "table" | "goals">): Goal[] {
    const goals: Goal[] = [];
    const oneName = runsOf(results, "one-name", "ours");
    const wildcard = runsOf(results, "apex-wildcard", "ours");
    const legoOne = runsOf(results, "one-name", "lego");
    const legoWildcard = runsOf(results, "apex-wildcard", "lego");
    const ratioGoal = (goal: string, ours: Summary | undefined, theirs: Summary | undefined, limit: number) => {
        if (!ours || !theirs) return;
        const value = ours.median / theirs.median;
        goals.push({
            goal,
            met: value <= limit,
            measured: `${formatRatio(ours.median, theirs.median)} (ours ${formatDuration(ours)}, lego ${formatDuration(theirs)})`,
        });
    };
    ratioGoal("ours warm, 1 name ≤ 0.25× lego", oneName?.wall, legoOne?.wall, 0.25);
    ratioGoal("ours warm, apex + wildcard ≤ 0.1× lego", wildcard?.wall, legoWildcard?.wall, 0.1);
    for (const [scenario, ours] of [
        ["one-name", oneName],
        ["apex-wildcard", wildcard],
    ] as const) {
        if (!ours) continue;
        const n = NAMES_IN[scenario];
        const limit = 2 * n + 6;
        goals.push({
            goal: `requests per certificate, warm, ${SCENARIO_TITLE[scenario]} ≤ 2N+6 = ${limit}`,
            met: ours.requests.median <= limit,
            measured: `${formatCount(ours.requests)} (minimum 2N+5 = ${protocolMinimum(n, "warm")})`,
        });
    }
    const oursMany = manyOf(results, "ours");
    const legoMany = manyOf(results, "lego");
    if (oursMany && oneName) {
        const limit = 3 * oneName.wall.median;
        goals.push({
            goal: `${oursMany.direct[0]!.certificates} at once ≤ 3× our single certificate`,
            met: oursMany.wall.median <= limit,
            measured: `${formatDuration(oursMany.wall)} vs 3 × ${formatDuration(oneName.wall)} = ${(limit / 1000).toFixed(3)} s`,
        });
    }
    ratioGoal(
        `${oursMany?.direct[0]?.certificates} at once ≤ 0.1× lego's processes`,
        oursMany?.wall,
        legoMany?.wall,
        0.1,
    );
    if (oursMany) {
        goals.push({
            goal: "host peak RSS ≤ 250 MB",
            met: oursMany.hostPeakRssMb <= 250,
            measured: `VmHWM ${oursMany.hostPeakRssMb.toFixed(0)} MB (the proxied host)`,
        });
    }
    const inProcess = diffsOf(results, "in-process");
    const rpc = diffsOf(results, "rpc");
    if (inProcess && rpc) {
        const requests = inProcess.requests.max + rpc.requests.max;
        goals.push({
            goal: "diff of unchanged certificates makes 0 requests",
            met: requests === 0,
            measured: `${requests} requests`,
        });
        goals.push({
            goal: `${inProcess.runs[0]!.diffs} diffs in-process < 50 ms`,
            met: inProcess.wall.median < 50,
            measured: `${formatDuration(inProcess.wall)} (through the host: ${formatDuration(rpc.wall)})`,
        });
    }
    return goals;
}

/** What the brackets of the table's header mean. */
export const TABLE_LEGEND =
    "[direct]: wall time of runs straight to Pebble. [proxied]: from separate runs through the counting proxy " +
    "(≈2 ms per request added, which would change who wins Pebble's polling races, so their times do not count). " +
    "Diffs make no requests: they are timed against the proxied host, where any request would be counted.";

/** A fixed-width text table. */
export function formatTable(rows: readonly Row[]): string {
    const header: Row = {
        scenario: "scenario",
        ours: "ours [direct]",
        lego: "lego [direct]",
        certbot: "certbot [direct]",
        oursOverLego: "ours/lego",
        oursOverCertbot: "ours/certbot",
        requests: "requests [proxied] (ours | lego | certbot)",
        minimum: "protocol minimum",
    };
    const keys = Object.keys(header) as Array<keyof Row>;
    const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
    const line = (row: Row) =>
        keys
            .map((key, index) => row[key].padEnd(widths[index]!))
            .join("  ")
            .trimEnd();
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function formatGoals(goals: readonly Goal[]): string {
    return goals.map((g) => `${g.met ? "MET   " : "MISSED"}  ${g.goal}: ${g.measured}`).join("\n");
}

/** The run whose wall time is the median one (the lower of the two middle runs for an even count). */
export function medianRun<T extends { wallMs: number }>(runs: readonly T[]): T | undefined {
    const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Where one client's time went in one scenario: its direct median run (ours: by resource step), then the requests
 * of its proxied median run in order, with the idle gaps between them (ours: inside its resource steps).
 */
export function formatWhereTheTimeGoes(
    results: Pick<Results, "runs">,
    scenario: Scenario,
    client: ClientName,
): string | undefined {
    const runs = runsOf(results, scenario, client);
    if (!runs) return undefined;
    const direct = medianRun(runs.direct)!;
    const proxied = medianRun(runs.proxied)!;
    const traffic = proxied.traffic!;
    const steps = direct.marks?.map((m) => `${m.label} ${m.durationMs.toFixed(1)} ms`).join(", ");
    const gaps = gapsOf(traffic.trace).map((g) => `${g.between} ${g.ms.toFixed(0)} ms`);
    const gapsLine = `idle gaps ≥ 20 ms between CA requests: ${gaps.join("; ") || "none"}`;
    const lines = [
        `${client}, ${SCENARIO_TITLE[scenario]}: direct median run ${direct.wallMs.toFixed(1)} ms` +
            (steps ? ` (${steps}; the host used ${direct.hostCpuMs ?? 0} ms CPU)` : ""),
    ];
    const proxiedRun = `  proxied median run ${proxied.wallMs.toFixed(1)} ms, ${traffic.total} requests`;
    if (!proxied.marks) {
        const bySteps = Object.entries(traffic.bySteps).map(([step, n]) => `${step} ${n}`);
        return [...lines, `${proxiedRun} (${bySteps.join(", ")}); ${gapsLine}`].join("\n");
    }
    const events = [
        ...proxied.marks.map((m) => ({ at: m.at, text: m.label, durationMs: m.durationMs, indent: "" })),
        ...traffic.trace.map((r) => ({
            at: r.at,
            text: `${r.method} ${r.step} → ${r.status}`,
            durationMs: r.durationMs,
            indent: "    ",
        })),
    ].sort((a, b) => a.at - b.at);
    const inRequests = timeInRequests(traffic.trace);
    const records = proxied.marks.filter((m) => m.label === "records").reduce((sum, m) => sum + m.durationMs, 0);
    const elsewhere = proxied.wallMs - inRequests - records;
    return [
        ...lines,
        `${proxiedRun}:`,
        ...events.map(
            (e) =>
                `  ${e.at.toFixed(1).padStart(7)} ms  ${(e.indent + e.text).padEnd(44)} ${e.durationMs.toFixed(1).padStart(6)} ms`,
        ),
        `  ${inRequests.toFixed(1)} ms in CA requests (proxy + Pebble), ${records.toFixed(1)} ms publishing records ` +
            `(nsupdate), ${elsewhere.toFixed(1)} ms elsewhere (host work, our waits, gRPC)`,
        `  ${gapsLine}`,
    ].join("\n");
}

/** Requests per step, median over the proxied runs, one line per client and scenario. */
export function formatRequestsBySteps(results: Pick<Results, "runs">): string {
    const lines: string[] = [];
    for (const scenario of ["one-name", "apex-wildcard"] as const) {
        for (const client of ["ours", "ours-cold", "lego", "lego-defaults", "certbot"] as const) {
            const traffic = runsOf(results, scenario, client)?.proxied.map((r) => r.traffic!);
            if (!traffic) continue;
            const steps = [...new Set(traffic.flatMap((t) => Object.keys(t.bySteps)))] as Step[];
            const medians = steps.map(
                (step) => `${step} ${formatCount(summarize(traffic.map((t) => t.bySteps[step] ?? 0)))}`,
            );
            lines.push(`  ${SCENARIO_TITLE[scenario].padEnd(16)} ${client.padEnd(14)} ${medians.join(", ")}`);
        }
    }
    return lines.join("\n");
}
