// Publishes an Order's DNS-01 answers in the stack's BIND, as the program's aws.route53.Record resources would:
// each record set replaced by exactly the values the Order lists.
import { type BindInfo, DnsUpdater } from "../test/stack";
import { run } from "../test/stack/processes";

export interface TxtRecordSet {
    recordName: string;
    values: readonly string[];
}

/**
 * One RFC 2136 update message per zone for all `records`. Each nsupdate process costs ≈25 ms of start-up on
 * this machine, so 50 record sets as 50 processes would measure nsupdate rather than the certificates (a DNS
 * API behind real record resources takes requests, not processes). TODO(test/stack): this belongs in
 * DnsUpdater as `setTxtRecordSets(records)`; it is here only because bench/ may not edit test/stack.
 */
export function publishTxtRecordSets(bind: BindInfo, records: readonly TxtRecordSet[]): void {
    const updater = new DnsUpdater(bind);
    const updatesByZone = new Map<string, string[]>();
    for (const { recordName, values } of records) {
        const fqdn = `${recordName}.`;
        const zone = updater.zoneOf(recordName);
        const updates = updatesByZone.get(zone) ?? [];
        updates.push(`update delete ${fqdn} TXT`, ...values.map((value) => `update add ${fqdn} 60 TXT "${value}"`));
        updatesByZone.set(zone, updates);
    }
    for (const [zone, updates] of updatesByZone) {
        const script = [`server 127.0.0.1 ${bind.port}`, `zone ${zone}`, ...updates, "send", ""];
        run("nsupdate", ["-k", bind.tsigKeyFile], script.join("\n"));
    }
}
