// BIND 9 as the authoritative DNS of the test stack: primary for a few test zones, with TSIG-authenticated
// dynamic updates (RFC 2136). Pebble's validator queries it, and so does our propagation check.
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, type ManagedProcess, requireBinary, run, startProcess, waitUntilReady } from "./processes";

export const TSIG_KEY_NAME = "acme-update";

/** Everything a test (in any process) needs to talk to the stack's BIND. JSON-serializable. */
export interface BindInfo {
    /** `127.0.0.1:<port>`: give this to resolvers and to `propagation.nameservers`. */
    readonly address: string;
    readonly port: number;
    readonly zones: readonly string[];
    /** A key file in the format tsig-keygen writes; nsupdate reads it with -k. */
    readonly tsigKeyFile: string;
}

export interface BindServer extends BindInfo {
    readonly process: ManagedProcess;
    stop(): Promise<void>;
}

export const DEFAULT_ZONES = ["example.test", "other.test", "delegated.test"] as const;

export async function startBind(dir: string, zones: readonly string[] = DEFAULT_ZONES): Promise<BindServer> {
    const named = requireBinary("named", "bind9");
    const tsigKeygen = requireBinary("tsig-keygen", "bind9");
    requireBinary("nsupdate", "bind9-dnsutils");
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const tsigKeyFile = path.join(dir, "tsig.key");
    fs.writeFileSync(tsigKeyFile, run(tsigKeygen, ["-a", "hmac-sha256", TSIG_KEY_NAME]));

    const zoneClauses = zones.map((zone) => {
        fs.writeFileSync(path.join(dir, `${zone}.zone`), zoneFile(zone));
        return `zone "${zone}" { type primary; file "${dir}/${zone}.zone"; journal "${dir}/${zone}.jnl";
    allow-update { key "${TSIG_KEY_NAME}"; }; };`;
    });
    fs.writeFileSync(path.join(dir, "root.zone"), rootZoneFile());
    const conf = path.join(dir, "named.conf");
    fs.writeFileSync(
        conf,
        `include "${tsigKeyFile}";
options {
    directory "${dir}";
    pid-file "${dir}/named.pid";
    listen-on port ${port} { 127.0.0.1; };
    listen-on-v6 { none; };
    // Recursion lets BIND follow a CNAME from one test zone into another (delegated _acme-challenge names), as
    // the public resolvers Let's Encrypt queries do; an authoritative-only answer stops at the CNAME.
    recursion yes;
    allow-recursion { 127.0.0.1; };
    allow-query { any; };
    dnssec-validation no;
    notify no;
};
controls { };
// A root zone of our own: names outside the test zones are answered NXDOMAIN here, never looked up on the Internet.
zone "." { type primary; file "${dir}/root.zone"; };
${zoneClauses.join("\n")}
`,
    );

    const proc = startProcess("named", named, ["-g", "-4", "-u", "root", "-c", conf], {
        logFile: path.join(dir, "named.log"),
    });
    const resolver = new dns.promises.Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    await waitUntilReady(proc, async () => {
        for (const zone of zones) await resolver.resolveSoa(zone);
        return true;
    });
    return {
        address: `127.0.0.1:${port}`,
        port,
        zones,
        tsigKeyFile,
        process: proc,
        stop: () => proc.stop(),
    };
}

function rootZoneFile(): string {
    return `$TTL 60
@          IN SOA localhost. hostmaster.localhost. 1 60 60 600 60
@          IN NS  localhost.
localhost. IN A   127.0.0.1
`;
}

function zoneFile(zone: string): string {
    return `$TTL 60
@    IN SOA ns1.${zone}. hostmaster.${zone}. 1 60 60 600 60
@    IN NS  ns1.${zone}.
ns1  IN A   127.0.0.1
@    IN A   127.0.0.1
*    IN A   127.0.0.1
`;
}

/** Sets and clears record sets in the stack's BIND with RFC 2136 updates (nsupdate -k). */
export class DnsUpdater {
    constructor(private readonly bind: BindInfo) {}

    /** Replaces the whole TXT record set at `name` with `values` (an empty list deletes it). */
    setTxt(name: string, values: readonly string[], ttl = 60): void {
        this.setRecordSet(name, "TXT", values.map(quoted), ttl);
    }

    clearTxt(name: string): void {
        this.setTxt(name, []);
    }

    /**
     * Replaces several TXT record sets, each as setTxt would, with one update message (one nsupdate) per zone:
     * starting nsupdate takes ≈27 ms, which a loop of setTxt calls pays for every record set.
     */
    setTxtRecordSets(records: ReadonlyArray<{ recordName: string; values: readonly string[] }>, ttl = 60): void {
        const updatesByZone = new Map<string, string[]>();
        for (const { recordName, values } of records) {
            const zone = this.zoneOf(recordName);
            const updates = replacementOf(recordName, "TXT", values.map(quoted), ttl);
            updatesByZone.set(zone, [...(updatesByZone.get(zone) ?? []), ...updates]);
        }
        for (const [zone, updates] of updatesByZone) this.send(zone, updates);
    }

    setCname(name: string, target: string, ttl = 60): void {
        this.setRecordSet(name, "CNAME", [absolute(target)], ttl);
    }

    /**
     * Replaces the record set of `type` at `name` with `rdata`, each given in zone-file presentation format
     * (TXT values carry their own quotes); an empty list deletes the set.
     */
    setRecordSet(name: string, type: string, rdata: readonly string[], ttl = 60): void {
        this.send(this.zoneOf(name), replacementOf(name, type, rdata, ttl));
    }

    deleteName(name: string): void {
        this.send(this.zoneOf(name), [`update delete ${absolute(name)}`]);
    }

    /** The stack's zone that holds `name` (longest suffix match). */
    zoneOf(name: string): string {
        const bare = name.replace(/\.$/, "").toLowerCase();
        const zone = [...this.bind.zones]
            .sort((a, b) => b.length - a.length)
            .find((z) => bare === z || bare.endsWith(`.${z}`));
        if (!zone) throw new Error(`${name} is in none of the test zones ${this.bind.zones.join(", ")}`);
        return zone;
    }

    /** One RFC 2136 update message to `zone`. */
    private send(zone: string, updates: readonly string[]): void {
        const script = [`server 127.0.0.1 ${this.bind.port}`, `zone ${zone}`, ...updates, "send", ""];
        run("nsupdate", ["-k", this.bind.tsigKeyFile], script.join("\n"));
    }
}

/** The nsupdate commands that replace the record set of `type` at `name` with `rdata` (none: delete it). */
function replacementOf(name: string, type: string, rdata: readonly string[], ttl: number): string[] {
    const fqdn = absolute(name);
    return [`update delete ${fqdn} ${type}`, ...rdata.map((r) => `update add ${fqdn} ${ttl} ${type} ${r}`)];
}

const absolute = (name: string) => (name.endsWith(".") ? name : `${name}.`);
const quoted = (value: string) => `"${value}"`;

/** The TXT values BIND serves at `name`, each record's strings joined, sorted; empty when it serves none. */
export async function txtValuesAt(bind: BindInfo, name: string): Promise<string[]> {
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 2 });
    resolver.setServers([bind.address]);
    try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join("")).sort();
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === dns.NODATA || code === dns.NOTFOUND) return [];
        throw error;
    }
}
