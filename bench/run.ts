// `npm run bench [-- --quick]`: our resources against lego and certbot on ONE test stack (BIND + Pebble). Every
// client is timed straight to Pebble, as shared/notes/perf-baselines.md measured the peers; its requests are
// counted in separate runs through ONE counting proxy in front of Pebble, whose ≈2 ms per request would change
// who wins Pebble's polling races if those runs were timed. Clients take turns within each round (ours, lego,
// certbot, ours, ...; direct, then proxied) so that drift of the machine hits all alike. Prints one table, writes
// the same data to bench/results/<timestamp>.json, and (full mode) says which goals are met.
//
// --quick: one direct and one proxied run per client and scenario, no goal judgement; for CI, so the bench never
// rots. Timing never fails a run, but a client that fails to issue does.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stripSecrets } from "../test/harness/host";
import { startTestStack } from "../test/stack";
import { type CaProxy, startCaProxy } from "../test/stack/caProxy";
import { uniqueName } from "../test/stack/names";
import { benchmarkKeyGeneration } from "./keygen";
import {
    installedProviderModule,
    issueInFreshHost,
    type Mark,
    type OursRun,
    type Providers,
    type ResourceState,
    serializeProviders,
    type Target,
    WarmHost,
} from "./ours";
import { type PeerEnvironment, type PeerName, type PeerRun, peerVersion, runPeer, runPeersAtOnce } from "./peers";
import { cpuDelta, cpuSnapshot, memoryOf, sampleTreeMemory } from "./procfs";
import {
    buildTable,
    type ClientName,
    type DiffRecord,
    formatGoals,
    formatRequestsBySteps,
    formatTable,
    formatWhereTheTimeGoes,
    judgeGoals,
    type ManyRecord,
    medianRun,
    type RelativeMark,
    type Results,
    ROUTES,
    type Route,
    type RunRecord,
    type Scenario,
    TABLE_LEGEND,
} from "./report";
import { epochNow } from "./stats";
import { trafficBetween } from "./traffic";

const ROOT = path.resolve(__dirname, "..");
const ZONE = "example.test";
const RESULTS_DIR = path.join(__dirname, "results");
/** The test stack's servers, whose CPU is part of every client's run on the shared cores. */
const STACK_SERVERS = ["pebble", "named"];

interface Settings {
    quick: boolean;
    /** Measured rounds per scenario, each with a direct and a proxied run of every client. */
    rounds: number;
    /** Unmeasured rounds first: they also register the peers' accounts (the "stored account" of every later run). */
    warmupRounds: (scenario: Scenario | "many" | "diff") => number;
    manyCertificates: number;
    diffs: number;
    /** A bench still running after this long has hung (quick mode takes about a minute, a full run about six). */
    deadlineMinutes: number;
}

function settingsFrom(argv: readonly string[]): Settings {
    const quick = argv.includes("--quick");
    return {
        quick,
        rounds: quick ? 1 : 5,
        // Quick mode warms up once, in the first scenario, because the peers need their accounts.
        warmupRounds: (scenario) => (quick ? (scenario === "one-name" ? 1 : 0) : 1),
        manyCertificates: 50,
        diffs: 1000,
        deadlineMinutes: quick ? 10 : 30,
    };
}

/** lego with exec defaults for apex + wildcard waits EXEC_SEQUENCE_INTERVAL (60 s) between the two challenges. */
const LEGO_DEFAULTS_APEX_WILDCARD = {
    legoDefaultsApexWildcardMs: { median: 70_300, min: 64_200, max: 70_300, n: 5 },
    source: "shared/notes/perf-baselines.md, table 1 (lego 4.9.1, exec defaults, apex + *.apex, direct to Pebble)",
};

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function installPeers(): void {
    execFileSync("bash", [path.join(ROOT, "scripts", "install-bench-deps.sh")], {
        stdio: ["ignore", "inherit", "inherit"],
    });
}

/** What every client needs to reach the CA by one route. */
interface RouteSetup {
    /** For ours: the CA and the DNS. */
    target: Target;
    peers: PeerEnvironment;
    /** Ours, warm: a host that registered an account at this route's directory URL. */
    warm: WarmHost;
}

/** Everything one bench run works with. */
interface Bench {
    settings: Settings;
    /** The counting proxy of the proxied route. */
    proxy: CaProxy;
    providers: Providers;
    routes: Record<Route, RouteSetup>;
}

/** What one client does in the single-certificate scenarios: issue for `names`, and say when it started and ended. */
type Issuer = (names: string[]) => Promise<PeerRun & Partial<Pick<OursRun, "marks" | "hostCpuMs">>>;

function issuers({ providers, routes }: Bench, route: Route): Record<ClientName, Issuer> {
    const { target, peers, warm } = routes[route];
    const peer =
        (name: PeerName): Issuer =>
        (names) =>
            runPeer(name, peers, names);
    return {
        ours: (names) => warm.issue([names]),
        "ours-cold": (names) => issueInFreshHost(providers, target, warm.account, names),
        lego: peer("lego"),
        "lego-defaults": peer("lego-defaults"),
        certbot: peer("certbot"),
    };
}

const relative = (marks: readonly Mark[], startedAt: number): RelativeMark[] =>
    marks.map((m) => ({ label: m.label, at: m.startedAt - startedAt, durationMs: m.endedAt - m.startedAt }));

/** A label for the names of one run: who, which route, which round. */
const runLabel = (client: string, route: Route, round: number) => `${client}-${route[0]}r${round}-`;

/** Names of their own for each run, so no run can reuse another's authorization or records. */
function namesFor(scenario: Scenario, client: ClientName, route: Route, round: number): string[] {
    const apex = uniqueName(ZONE, runLabel(client, route, round));
    return scenario === "one-name" ? [apex] : [apex, `*.${apex}`];
}

/** What the proxy saw between `startedAt` and `endedAt`, which must include `certificates` downloads. */
function proxiedTraffic(bench: Bench, run: PeerRun, certificates: number, who: string) {
    const traffic = trafficBetween(bench.proxy, run.startedAt, run.endedAt);
    if ((traffic.bySteps.certificate ?? 0) < certificates) {
        throw new Error(`${who} downloaded fewer than ${certificates} certificates through the proxy`);
    }
    return traffic;
}

async function runSingleCertificates(
    bench: Bench,
    scenario: Scenario,
    clients: readonly ClientName[],
): Promise<RunRecord[]> {
    const warmups = bench.settings.warmupRounds(scenario);
    const records: RunRecord[] = [];
    for (let round = 0; round < warmups + bench.settings.rounds; round++) {
        for (const route of ROUTES) {
            const issue = issuers(bench, route);
            for (const client of clients) {
                const names = namesFor(scenario, client, route, round);
                const run = await issue[client](names);
                const traffic =
                    route === "proxied"
                        ? proxiedTraffic(bench, run, 1, `${client} for ${names.join(", ")}`)
                        : undefined;
                const record: RunRecord = {
                    scenario,
                    client,
                    round,
                    warmup: round < warmups,
                    route,
                    names,
                    wallMs: run.endedAt - run.startedAt,
                    ...(traffic ? { traffic } : {}),
                    ...(run.marks ? { marks: relative(run.marks, run.startedAt), hostCpuMs: run.hostCpuMs ?? 0 } : {}),
                };
                records.push(record);
                const requests = traffic ? `, ${traffic.total} requests` : "";
                log(
                    `${scenario} round ${round}${record.warmup ? " (warm-up)" : ""} ${route} ${client}: ` +
                        `${(record.wallMs / 1000).toFixed(3)} s${requests}`,
                );
            }
        }
    }
    return records;
}

/**
 * Ours: every certificate in the warm host at once. lego: one process per certificate, all at once. Timed
 * direct; requests and peak RSS from the proxied runs (memory is sampled only there: sampling scans /proc).
 */
async function runManyAtOnce(bench: Bench): Promise<{ records: ManyRecord[]; lastStates: ResourceState[] }> {
    const count = bench.settings.manyCertificates;
    const warmups = bench.settings.warmupRounds("many");
    const records: ManyRecord[] = [];
    let lastStates: ResourceState[] = [];
    for (let round = 0; round < warmups + bench.settings.rounds; round++) {
        const warmup = round < warmups;
        for (const route of ROUTES) {
            const { warm, peers } = bench.routes[route];
            const proxied = route === "proxied";
            const nameSets = (client: string) =>
                Array.from({ length: count }, (_, i) => [uniqueName(ZONE, runLabel(`${client}${i}`, route, round))]);
            const common = { round, warmup, route, certificates: count };

            const sampler = proxied ? sampleTreeMemory(() => [warm.pid]) : null;
            const cpuBefore = cpuSnapshot(STACK_SERVERS);
            const ours = await warm.issue(nameSets("many"));
            const oursCpu = cpuDelta(cpuBefore, cpuSnapshot(STACK_SERVERS));
            const oursMemory = sampler?.stop();
            const oursRecord: ManyRecord = {
                client: "ours",
                ...common,
                wallMs: ours.endedAt - ours.startedAt,
                phases: phasesOf(ours.marks, ours.startedAt),
                cpuMs: { host: ours.hostCpuMs, ...oursCpu },
            };
            if (proxied) {
                lastStates = ours.certificates;
                oursRecord.requests = proxiedTraffic(bench, ours, count, "ours").total;
                oursRecord.memory = oursMemory!;
                oursRecord.hostPeakRssMb = memoryOf(warm.pid).peakRssMb;
            }
            records.push(oursRecord);

            const legoCpuBefore = cpuSnapshot(STACK_SERVERS);
            const lego = await runPeersAtOnce("lego", peers, nameSets("lego"), { sampleMemory: proxied });
            const legoRecord: ManyRecord = {
                client: "lego",
                ...common,
                wallMs: lego.endedAt - lego.startedAt,
                cpuMs: cpuDelta(legoCpuBefore, cpuSnapshot(STACK_SERVERS)),
            };
            if (proxied) {
                legoRecord.requests = proxiedTraffic(bench, lego, count, "lego").total;
                legoRecord.memory = lego.memory!;
            }
            records.push(legoRecord);

            const memory = proxied
                ? ` (host VmHWM ${oursRecord.hostPeakRssMb!.toFixed(0)} MB; lego RSS sum ${legoRecord.memory!.peakRssSumMb.toFixed(0)} MB)`
                : "";
            log(
                `${count} at once round ${round}${warmup ? " (warm-up)" : ""} ${route}: ours ` +
                    `${(oursRecord.wallMs / 1000).toFixed(3)} s, lego ${(legoRecord.wallMs / 1000).toFixed(3)} s${memory}`,
            );
        }
    }
    return { records, lastStates };
}

/** Each step of a many-certificates run (all Orders, the records, all Certificates...) as one span. */
function phasesOf(marks: readonly Mark[], startedAt: number): RelativeMark[] {
    const spans = new Map<string, { startedAt: number; endedAt: number }>();
    for (const mark of marks) {
        const phase = mark.label;
        const span = spans.get(phase);
        spans.set(phase, {
            startedAt: Math.min(span?.startedAt ?? mark.startedAt, mark.startedAt),
            endedAt: Math.max(span?.endedAt ?? mark.endedAt, mark.endedAt),
        });
    }
    return relative(
        [...spans].map(([label, span]) => ({ label, ...span })),
        startedAt,
    );
}

/**
 * Unchanged certificates diffed, as every preview does: the provider's diff() called in this process (the
 * provider's own cost), then Diff RPCs through the host (what the engine waits for). Nothing may reach the CA:
 * the certificates are the proxied host's, so any request would be counted.
 */
async function runDiffs(bench: Bench, states: readonly ResourceState[]): Promise<DiffRecord[]> {
    const certificateProvider = installedProviderModule("Certificate") as {
        diff(id: string, olds: unknown, news: unknown): Promise<{ changes?: boolean }>;
    };
    const plain = states.map((s) => ({ id: s.id, olds: stripSecrets(s.outputs), news: stripSecrets(s.inputs) }));
    const count = bench.settings.diffs;
    const records: DiffRecord[] = [];
    const warmups = bench.settings.warmupRounds("diff");
    for (let round = 0; round < warmups + bench.settings.rounds; round++) {
        const warmup = round < warmups;
        // diff() reports on stdout (an info diagnostic in the engine) only what is due or changing: counted, not printed.
        const print = console.log;
        let reportedLines = 0;
        console.log = () => {
            reportedLines += 1;
        };
        const startedAt = epochNow();
        try {
            for (let index = 0; index < count; index++) {
                const { id, olds, news } = plain[index % plain.length]!;
                if ((await certificateProvider.diff(id, olds, news)).changes !== false) {
                    throw new Error(`diff() of unchanged certificate ${id} found changes`);
                }
            }
        } finally {
            console.log = print;
        }
        const endedAt = epochNow();
        records.push({
            mode: "in-process",
            round,
            warmup,
            diffs: count,
            wallMs: endedAt - startedAt,
            requests: trafficBetween(bench.proxy, startedAt, endedAt).total,
        });

        const rpc = await bench.routes.proxied.warm.diffUnchanged(states, count);
        records.push({
            mode: "rpc",
            round,
            warmup,
            diffs: count,
            wallMs: rpc.endedAt - rpc.startedAt,
            requests: trafficBetween(bench.proxy, rpc.startedAt, rpc.endedAt).total,
        });
        const [inProcess, viaHost] = records.slice(-2);
        log(
            `${count} diffs round ${round}${warmup ? " (warm-up)" : ""}: in-process ${inProcess!.wallMs.toFixed(1)} ms (${reportedLines} lines reported), through the host ${viaHost!.wallMs.toFixed(0)} ms`,
        );
    }
    return records;
}

async function runScenarios(bench: Bench) {
    const singleClients: ClientName[] = bench.settings.quick
        ? ["ours", "ours-cold", "lego", "certbot"]
        : ["ours", "ours-cold", "lego", "lego-defaults", "certbot"];
    const runs = [
        ...(await runSingleCertificates(bench, "one-name", singleClients)),
        ...(await runSingleCertificates(bench, "apex-wildcard", ["ours", "ours-cold", "lego", "certbot"])),
    ];
    const many = await runManyAtOnce(bench);
    const diffs = await runDiffs(bench, many.lastStates);
    log("key generation");
    const keygen = await benchmarkKeyGeneration(bench.settings.quick);
    return { runs, many: many.records, diffs, keygen };
}

/** A client that hangs must fail the bench too; rejecting lets main() stop everything it started. */
function withinDeadline<T>(work: Promise<T>, minutes: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(new Error(`the bench did not finish within ${minutes} minutes`)),
            minutes * 60_000,
        );
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
    const settings = settingsFrom(process.argv.slice(2));
    const startedAt = new Date();
    const loadAtStart = os.loadavg()[0]!.toFixed(2);
    installPeers();
    if (!fs.existsSync(path.join(ROOT, "node_modules", "pulumi-acme-certs", "dist", "resources"))) {
        throw new Error("the package is not installed: run `npm run build && node scripts/install-self.mjs` first");
    }
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "acme-bench-"));
    const stack = await startTestStack();
    let proxy: CaProxy | undefined;
    const warmHosts: WarmHost[] = [];
    try {
        proxy = await startCaProxy(stack.pebble);
        log("serializing the providers of the installed package");
        const providers = await serializeProviders();
        /** A route to the CA's HTTPS listener at `directoryUrl`, whose certificate is `caPem`. */
        const routeTo = async (route: Route, directoryUrl: string, caPem: string): Promise<RouteSetup> => {
            const caFile = path.join(workDir, `${route}-ca.pem`);
            fs.writeFileSync(caFile, caPem);
            const target: Target = { directoryUrl, caCertificatesPem: caPem, bind: stack.bind };
            const warm = await WarmHost.start(providers, target);
            warmHosts.push(warm);
            const peers: PeerEnvironment = { directoryUrl, caFile, bind: stack.bind, zone: ZONE, stateDir: workDir };
            return { target, peers, warm };
        };
        const routes: Record<Route, RouteSetup> = {
            direct: await routeTo("direct", stack.pebble.directoryUrl, stack.pebble.listenerCaPem),
            proxied: await routeTo("proxied", proxy.directoryUrl, proxy.caPem),
        };
        const bench: Bench = { settings, proxy, providers, routes };

        const { runs, many, diffs, keygen } = await withinDeadline(runScenarios(bench), settings.deadlineMinutes);

        const partial = {
            startedAt: startedAt.toISOString(),
            quick: settings.quick,
            environment: {
                node: process.version,
                cpus: os.cpus().length,
                cpuModel: os.cpus()[0]?.model ?? "unknown",
                memoryGb: Math.round(os.totalmem() / 2 ** 30),
                lego: peerVersion("lego"),
                certbot: peerVersion("certbot"),
                pebbleEnv: "PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0",
                // Other work on the machine skews every client alike only in part: say how busy it was.
                loadAverageAtStart: loadAtStart,
                loadAverageAtEnd: os.loadavg()[0]!.toFixed(2),
            },
            runs,
            many,
            diffs,
            keygen,
            notMeasured: LEGO_DEFAULTS_APEX_WILDCARD,
        };
        const results: Results = {
            ...partial,
            table: buildTable(partial),
            goals: settings.quick ? [] : judgeGoals(partial),
        };
        report(results);
    } finally {
        for (const warm of warmHosts) await warm.stop();
        await proxy?.stop();
        await stack.stop();
        fs.rmSync(workDir, { recursive: true, force: true });
    }
}

function report(results: Results): void {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${results.startedAt.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    const runs = results.quick ? "1 direct and 1 proxied run" : "5 direct and 5 proxied runs after 1 warm-up";
    const out: string[] = [
        "",
        `${results.quick ? "Quick" : "Full"} bench, ${results.startedAt}: medians (min–max) of ${runs} each; ` +
            `load average ${results.environment.loadAverageAtStart} at the start, ${results.environment.loadAverageAtEnd} at the end (${results.environment.cpus} CPUs)`,
        "",
        formatTable(results.table),
        TABLE_LEGEND,
        "",
        "Requests per certificate by step (median of the proxied runs):",
        formatRequestsBySteps(results),
    ];
    if (!results.quick) {
        out.push("", "Goals:", formatGoals(results.goals), "", "Where the time goes:");
        for (const scenario of ["one-name", "apex-wildcard"] as const) {
            for (const client of ["ours", "ours-cold", "lego", "lego-defaults", "certbot"] as const) {
                const text = formatWhereTheTimeGoes(results, scenario, client);
                if (text) out.push(text);
            }
        }
        const directMany = (client: ManyRecord["client"]) =>
            medianRun(results.many.filter((r) => !r.warmup && r.route === "direct" && r.client === client));
        const oursMany = directMany("ours");
        if (oursMany?.phases) {
            const phases = oursMany.phases.map(
                (p) => `${p.label} ${p.at.toFixed(0)}–${(p.at + p.durationMs).toFixed(0)} ms`,
            );
            out.push(
                `ours, ${oursMany.certificates} at once, direct median run ${oursMany.wallMs.toFixed(0)} ms: ${phases.join("; ")}`,
            );
        }
        for (const client of ["ours", "lego"] as const) {
            const run = directMany(client);
            if (run) out.push(`  CPU during ${client}'s direct median run (ms): ${formatCpu(run.cpuMs)}`);
        }
    }
    out.push("", `Results: ${path.relative(ROOT, file)}`);
    process.stdout.write(`${out.join("\n")}\n`);
}

function formatCpu(cpuMs: Record<string, number>): string {
    return Object.entries(cpuMs)
        .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
        .join(", ");
}

main().catch((error: unknown) => {
    process.stderr.write(
        `[bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
});
