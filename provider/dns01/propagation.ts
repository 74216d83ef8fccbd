// Waits until the expected DNS-01 TXT values are visible at the authoritative nameservers of their zones (or at
// nameservers given explicitly), before the CA is asked to validate. node:dns only.
import * as dns from "node:dns";
import { isIP } from "node:net";
import { type DnsChallengeRecord, withoutTrailingDot } from "./names";

/** Short, single-try queries: a round that waits on a dead server only delays the next round. */
const QUERY_TIMEOUT_MS = 2000;
/** Longer chains are almost surely a mistake; resolvers give up around here too. */
const MAX_CNAME_CHAIN = 8;
const DNS_PORT = 53;

export interface PropagationOptions {
    /**
     * Query these servers (`host` or `host:port`, IPv4/IPv6 literal or hostname; IPv6 with a port as
     * `[2001:db8::53]:53`) instead of the zones' authoritative nameservers: for tests and split-horizon DNS.
     */
    nameservers?: readonly string[];
    /** Give up after this long. */
    timeoutSeconds: number;
    /** Between rounds of queries. */
    intervalSeconds: number;
    /** One progress line at a time (the provider host turns stdout into engine diagnostics). */
    onProgress?: (line: string) => void;
    /**
     * @internal Servers (IP or `IP:port`) for the SOA/NS discovery and for the addresses of nameservers given by
     * name (default: the system resolver).
     */
    discoveryServers?: readonly string[];
    /** @internal Port to query discovered nameservers on (default 53). */
    nameserverPort?: number;
    /** @internal */
    sleep?: (ms: number) => Promise<void>;
    /** @internal */
    now?: () => number;
}

/** What one nameserver answered for one record in the last round. */
export interface NameserverAnswer {
    /** e.g. `ns1.example.test (127.0.0.1:5353)` */
    nameserver: string;
    /** TXT values seen, or null when the query failed. */
    values: string[] | null;
    /** NXDOMAIN, NODATA, timeout, refused... when values is null or empty. */
    error?: string;
}

/** Thrown when time runs out: names each record, what was expected and what each nameserver returned. */
export class PropagationTimeoutError extends Error {
    constructor(
        message: string,
        readonly records: ReadonlyArray<{ recordName: string; expected: string[]; answers: NameserverAnswer[] }>,
    ) {
        super(message);
        this.name = "PropagationTimeoutError";
    }
}

/**
 * Resolves when every record shows all its expected values at every nameserver checked (extra values are fine:
 * other certificates may share the name). CNAMEs at the record name are followed (delegation), and the
 * target's zone is checked instead. Records are checked in parallel.
 */
export async function waitForTxtRecords(
    records: readonly DnsChallengeRecord[],
    options: PropagationOptions,
): Promise<void> {
    checkTimes(options);
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const finder = new NameserverFinder(options);
    const timeoutMs = options.timeoutSeconds * 1000;
    const started = now();
    for (;;) {
        const checks = await Promise.all(records.map((record) => checkRecord(record, finder)));
        const pending = checks.filter((check) => !check.visible);
        if (pending.length === 0) return;
        const elapsedMs = now() - started;
        if (elapsedMs >= timeoutMs) throw timeoutError(pending, elapsedMs, options.timeoutSeconds);
        options.onProgress?.(progressLine(pending, records.length, elapsedMs, options.timeoutSeconds));
        await sleep(Math.min(options.intervalSeconds * 1000, timeoutMs - elapsedMs));
    }
}

function checkTimes({ timeoutSeconds, intervalSeconds }: PropagationOptions): void {
    if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 0)) {
        throw new RangeError(`propagation.timeoutSeconds is ${timeoutSeconds}: give a number of seconds, e.g. 120`);
    }
    if (!(Number.isFinite(intervalSeconds) && intervalSeconds > 0)) {
        throw new RangeError(
            `propagation.intervalSeconds is ${intervalSeconds}: give a positive number of seconds, e.g. 5`,
        );
    }
}

/** One round's verdict on one record. */
interface RecordCheck {
    recordName: string;
    expected: string[];
    /** The end of the CNAME chain at the record name, when there is one: its TXT values are the ones that count. */
    cnameTarget?: string;
    visible: boolean;
    answers: NameserverAnswer[];
    /** Names of the nameservers that do not show every expected value yet. */
    lagging: string[];
    /** Why the record could not be queried this round (no zone found, CNAME loop...). */
    problem?: string;
}

async function checkRecord(record: DnsChallengeRecord, finder: NameserverFinder): Promise<RecordCheck> {
    const name = withoutTrailingDot(record.recordName).toLowerCase();
    const target = await followCnames(name, finder);
    const base = {
        recordName: record.recordName,
        expected: record.values,
        ...(target.name === name ? {} : { cnameTarget: target.name }),
    };
    if ("problem" in target) return { ...base, visible: false, answers: [], lagging: [], problem: target.problem };
    const verdicts = await Promise.all(
        target.nameservers.map(async (nameserver) => {
            const answers = await Promise.all(nameserver.endpoints.map((endpoint) => queryTxt(endpoint, target.name)));
            return { nameserver, answers, upToDate: showsAll(answers, record.values) };
        }),
    );
    return {
        ...base,
        visible: verdicts.every((verdict) => verdict.upToDate),
        answers: verdicts.flatMap((verdict) => verdict.answers.map((reply) => reply.answer)),
        lagging: verdicts.filter((verdict) => !verdict.upToDate).map((verdict) => verdict.nameserver.name),
    };
}

/**
 * A nameserver is up to date when one of its addresses shows every expected value and no other address answers
 * differently. Addresses we cannot reach are passed over, because a host without IPv6 cannot ask the AAAA
 * address of a nameserver that the CA can.
 */
function showsAll(answers: readonly EndpointReply[], expected: readonly string[]): boolean {
    const complete = ({ answer }: EndpointReply) =>
        answer.values !== null && expected.every((value) => answer.values!.includes(value));
    return answers.some(complete) && answers.every((reply) => complete(reply) || reply.unreachable);
}

/**
 * The name whose TXT record counts for `recordName` (the end of its CNAME chain) and the nameservers to ask
 * there, or why they cannot be known this round.
 */
async function followCnames(
    recordName: string,
    finder: NameserverFinder,
): Promise<{ name: string; nameservers: Nameserver[] } | { name: string; problem: string }> {
    const chain = [recordName];
    for (;;) {
        const name = chain[chain.length - 1]!;
        let nameservers: Nameserver[];
        try {
            nameservers = await finder.forName(name);
        } catch (error) {
            if (error instanceof CheckProblem) return { name, problem: error.message };
            throw error;
        }
        const target = await cnameAt(name, nameservers);
        if (target === undefined) return { name, nameservers };
        if (chain.includes(target)) {
            const loop = [...chain, target].join(" → ");
            return { name, problem: `CNAME loop ${loop}: point the CNAME at the name that holds the TXT record` };
        }
        if (chain.length > MAX_CNAME_CHAIN) {
            return {
                name,
                problem: `more than ${MAX_CNAME_CHAIN} CNAMEs in a row (${chain.join(" → ")} → …): point ${recordName} at the name that holds the TXT record`,
            };
        }
        chain.push(target);
    }
}

/** The CNAME target at `name` as any of `nameservers` sees it; failed queries count as "no CNAME". */
async function cnameAt(name: string, nameservers: readonly Nameserver[]): Promise<string | undefined> {
    const endpoints = nameservers.flatMap((nameserver) => nameserver.endpoints);
    const targets = await Promise.all(
        endpoints.map((endpoint) => endpoint.resolver.resolveCname(name).catch(() => [] as string[])),
    );
    const target = targets.flat()[0];
    return target === undefined ? undefined : withoutTrailingDot(target).toLowerCase();
}

interface EndpointReply {
    answer: NameserverAnswer;
    /** No DNS answer came back at all (timeout, connection refused). */
    unreachable: boolean;
}

async function queryTxt(endpoint: Endpoint, name: string): Promise<EndpointReply> {
    try {
        const records = await endpoint.resolver.resolveTxt(name);
        // A TXT record may arrive split into several strings of at most 255 bytes; its value is their concatenation.
        return {
            answer: { nameserver: endpoint.label, values: records.map((chunks) => chunks.join("")) },
            unreachable: false,
        };
    } catch (error) {
        const code = errorCode(error);
        const negative = code === dns.NOTFOUND || code === dns.NODATA;
        return {
            answer: { nameserver: endpoint.label, values: negative ? [] : null, error: describeDnsError(error) },
            unreachable: code === dns.TIMEOUT || code === dns.CONNREFUSED,
        };
    }
}

/** One address of a nameserver and a resolver that asks only it. */
interface Endpoint {
    /** e.g. `ns1.example.test (127.0.0.1:5353)`, or `127.0.0.1:5353` for a nameserver given as an address. */
    label: string;
    resolver: dns.promises.Resolver;
}

/** A nameserver host with every address it has. */
interface Nameserver {
    /** Its host name, or `address:port` when it was given as an address. */
    name: string;
    endpoints: Endpoint[];
}

/** Why the nameservers for a name cannot be known in this round; the next round tries again. */
class CheckProblem extends Error {}

/**
 * Finds the nameservers to ask about a name: the ones given in the options, or the authoritative nameservers of
 * the name's zone (SOA walk, then NS, then A/AAAA). Successful look-ups are kept for the rest of the wait.
 */
class NameserverFinder {
    private readonly given?: ReadonlyArray<{ host: string; port: number }>;
    private readonly discovery: dns.promises.Resolver;
    private readonly discoveryLabel: string;
    private readonly nameserverPort: number;
    private readonly resolvers = new Map<string, dns.promises.Resolver>();
    private readonly zonesByName = new Map<string, string>();
    private readonly nameserversByZone = new Map<string, Nameserver[]>();
    private givenNameservers?: Nameserver[];

    constructor(options: PropagationOptions) {
        this.given = options.nameservers?.map(parseServer);
        this.discovery = newResolver();
        if (options.discoveryServers) this.discovery.setServers(options.discoveryServers);
        this.discoveryLabel = options.discoveryServers ? options.discoveryServers.join(", ") : "the system resolver";
        this.nameserverPort = options.nameserverPort ?? DNS_PORT;
    }

    async forName(name: string): Promise<Nameserver[]> {
        if (this.given) {
            this.givenNameservers ??= await this.resolveGiven(this.given);
            return this.givenNameservers;
        }
        const zone = this.zonesByName.get(name) ?? (await this.zoneOf(name));
        this.zonesByName.set(name, zone);
        const nameservers = this.nameserversByZone.get(zone) ?? (await this.authoritativeNameservers(zone));
        this.nameserversByZone.set(zone, nameservers);
        return nameservers;
    }

    /** The zone apex: the closest enclosing name with an SOA record. */
    private async zoneOf(name: string): Promise<string> {
        const answers: string[] = [];
        const labels = name.split(".");
        for (let start = 0; start < labels.length; start++) {
            const candidate = labels.slice(start).join(".");
            try {
                await this.discovery.resolveSoa(candidate);
                return candidate;
            } catch (error) {
                const code = errorCode(error);
                if (code === dns.TIMEOUT || code === dns.CONNREFUSED) {
                    throw new CheckProblem(
                        `could not look up the zone of ${name}: the SOA query for ${candidate} at ${this.discoveryLabel} failed (${describeDnsError(error)})`,
                    );
                }
                answers.push(`${candidate}: ${describeDnsError(error)}`);
            }
        }
        throw new CheckProblem(
            `found no zone for ${name}: neither it nor a parent name has an SOA record at ${this.discoveryLabel} (${answers.join(", ")}); create the record in a zone that is served publicly, or set propagation.nameservers`,
        );
    }

    private async authoritativeNameservers(zone: string): Promise<Nameserver[]> {
        let names: string[];
        try {
            names = await this.discovery.resolveNs(zone);
        } catch (error) {
            throw new CheckProblem(
                `could not list the nameservers of zone ${zone}: the NS query at ${this.discoveryLabel} failed (${describeDnsError(error)})`,
            );
        }
        const nameservers = await Promise.all(names.map((name) => this.nameserver(name, this.nameserverPort, true)));
        // A nameserver without an address cannot be asked, by us or by the CA; the others still can.
        const reachable = nameservers.filter((nameserver) => nameserver.endpoints.length > 0);
        if (reachable.length === 0) {
            throw new CheckProblem(
                `none of the nameservers of zone ${zone} (${names.join(", ")}) has an A or AAAA record at ${this.discoveryLabel}`,
            );
        }
        return reachable;
    }

    private async resolveGiven(given: ReadonlyArray<{ host: string; port: number }>): Promise<Nameserver[]> {
        const nameservers = await Promise.all(given.map(({ host, port }) => this.nameserver(host, port, !isIP(host))));
        const unknown = nameservers.filter((nameserver) => nameserver.endpoints.length === 0);
        if (unknown.length > 0) {
            const names = unknown.map((nameserver) => nameserver.name).join(", ");
            throw new CheckProblem(
                `propagation.nameservers: found no A or AAAA record for ${names} at ${this.discoveryLabel}; give its address instead`,
            );
        }
        return nameservers;
    }

    private async nameserver(host: string, port: number, byName: boolean): Promise<Nameserver> {
        const addresses = byName ? await this.addressesOf(host) : [host];
        const endpoints = addresses.map((address) => {
            const hostPort = formatHostPort(address, port);
            return { label: byName ? `${host} (${hostPort})` : hostPort, resolver: this.resolverFor(hostPort) };
        });
        return { name: byName ? host : formatHostPort(host, port), endpoints };
    }

    /** IPv4 first, then IPv6; empty when the name has neither. */
    private async addressesOf(host: string): Promise<string[]> {
        const lookups = await Promise.allSettled([this.discovery.resolve4(host), this.discovery.resolve6(host)]);
        return lookups.flatMap((lookup) => (lookup.status === "fulfilled" ? lookup.value : []));
    }

    private resolverFor(hostPort: string): dns.promises.Resolver {
        let resolver = this.resolvers.get(hostPort);
        if (!resolver) {
            resolver = newResolver();
            resolver.setServers([hostPort]);
            this.resolvers.set(hostPort, resolver);
        }
        return resolver;
    }
}

function newResolver(): dns.promises.Resolver {
    return new dns.promises.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
}

/** `host`, `host:port` or `[IPv6]:port`; a bare IPv6 literal is taken whole. */
function parseServer(spec: string): { host: string; port: number } {
    const text = spec.trim();
    if (isIP(text)) return { host: text, port: DNS_PORT };
    const match = /^(?:\[(?<ipv6>[^\]]+)\]|(?<host>[^\s:[\]]+))(?::(?<port>\d{1,5}))?$/.exec(text);
    const host = match?.groups?.ipv6 ?? match?.groups?.host;
    const port = Number(match?.groups?.port ?? DNS_PORT);
    if (!host || (match?.groups?.ipv6 !== undefined && isIP(host) !== 6) || port < 1 || port > 65535) {
        throw new Error(
            `propagation.nameservers: ${JSON.stringify(spec)} is not a host or host:port: write e.g. "192.0.2.53", "ns1.example.com:5353" or "[2001:db8::53]:53"`,
        );
    }
    return { host, port };
}

function formatHostPort(address: string, port: number): string {
    return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function errorCode(error: unknown): string | undefined {
    return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** DNS result codes as dig prints them; transport failures in words. */
const DNS_ERROR_WORDS: Record<string, string> = {
    [dns.NOTFOUND]: "NXDOMAIN",
    [dns.NODATA]: "NODATA",
    [dns.REFUSED]: "refused",
    [dns.SERVFAIL]: "SERVFAIL",
    [dns.NOTIMP]: "NOTIMP",
    [dns.FORMERR]: "FORMERR",
    [dns.TIMEOUT]: "timeout",
    [dns.CONNREFUSED]: "connection refused",
};

function describeDnsError(error: unknown): string {
    const code = errorCode(error);
    return (code && DNS_ERROR_WORDS[code]) ?? code ?? String(error);
}

function timeoutError(pending: readonly RecordCheck[], elapsedMs: number, timeoutSeconds: number) {
    const after = `${Math.round(elapsedMs / 1000)}s`;
    const sentences = pending.map((check) => {
        const followed = check.cnameTarget ? ` (CNAME → ${check.cnameTarget})` : "";
        const head = `TXT ${check.recordName}${followed} not visible after ${after}: expected ${JSON.stringify(check.expected)}`;
        if (check.problem) return `${head}; ${check.problem}`;
        // Missing where a nameserver answered; failed queries speak for themselves in the list.
        const missing = check.expected.filter((value) =>
            check.answers.some((answer) => answer.values !== null && !answer.values.includes(value)),
        );
        const answers = check.answers.map(
            (answer) =>
                `${answer.nameserver} returned ${answer.values?.length ? JSON.stringify(answer.values) : answer.error}`,
        );
        return [missing.length > 0 ? `${head}, missing ${JSON.stringify(missing)}` : head, ...answers].join("; ");
    });
    const advice = `Check that the challenge records were created in the right zone, or raise propagation.timeoutSeconds (now ${timeoutSeconds}).`;
    return new PropagationTimeoutError(
        [...sentences, advice].join("\n"),
        pending.map(({ recordName, expected, answers }) => ({ recordName, expected, answers })),
    );
}

function progressLine(pending: readonly RecordCheck[], total: number, elapsedMs: number, timeoutSeconds: number) {
    const lagging = new Set(pending.flatMap((check) => check.lagging)).size;
    const where = lagging === 0 ? "" : ` at ${lagging} nameserver${lagging === 1 ? "" : "s"}`;
    const records = `TXT record${total === 1 ? "" : "s"}`;
    return `waiting for ${pending.length} of ${total} ${records}${where} (${Math.round(elapsedMs / 1000)}s/${timeoutSeconds}s)`;
}
