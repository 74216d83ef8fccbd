// The propagation check against the stack's real BIND: nameservers given directly, and found by SOA/NS discovery.
import { describe, expect, inject, it } from "vitest";
import { type PropagationOptions, PropagationTimeoutError, waitForTxtRecords } from "../../provider/dns01/propagation";
import { DnsUpdater } from "../stack/index";
import { uniqueName } from "../stack/names";

const { bind } = inject("stack");
const updater = new DnsUpdater(bind);
/** Ask the stack's BIND directly. */
const direct: PropagationOptions = { nameservers: [bind.address], timeoutSeconds: 1, intervalSeconds: 0.2 };
/** Find the zone's nameservers (ns1.<zone> → 127.0.0.1) through BIND, and ask them on BIND's port. */
const discovered: PropagationOptions = {
    discoveryServers: [bind.address],
    nameserverPort: bind.port,
    timeoutSeconds: 1,
    intervalSeconds: 0.2,
};

const challengeName = (zone = "example.test") => `_acme-challenge.${uniqueName(zone)}`;

async function timeoutOf(waiting: Promise<void>): Promise<PropagationTimeoutError> {
    const error = await waiting.then(
        () => undefined,
        (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PropagationTimeoutError);
    return error as PropagationTimeoutError;
}

describe("waitForTxtRecords at given nameservers", () => {
    it("resolves at once when the values are already there", async () => {
        const recordName = challengeName();
        updater.setTxt(recordName, ["abc", "def"]);
        await waitForTxtRecords([{ recordName, values: ["abc", "def"] }], direct);
    });

    it("resolves with no records to wait for", async () => {
        await waitForTxtRecords([], direct);
    });

    it("accepts extra values at the name, which other certificates may have put there", async () => {
        const recordName = challengeName();
        updater.setTxt(recordName, ["other", "ours"]);
        await waitForTxtRecords([{ recordName, values: ["ours"] }], direct);
    });

    it("resolves once values added while waiting show up", async () => {
        const recordName = challengeName();
        setTimeout(() => updater.setTxt(recordName, ["late"]), 300);
        await waitForTxtRecords([{ recordName, values: ["late"] }], { ...direct, timeoutSeconds: 30 });
    });

    it("names the nameserver's actual answer when a value is wrong", async () => {
        const recordName = challengeName();
        updater.setTxt(recordName, ["old"]);
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["new"] }], direct));
        expect(error.message).toContain(`TXT ${recordName} not visible after`);
        expect(error.message).toContain(`expected ["new"], missing ["new"]; ${bind.address} returned ["old"]`);
        expect(error.message).toContain(
            "Check that the challenge records were created in the right zone, or raise propagation.timeoutSeconds (now 1).",
        );
        expect(error.records).toEqual([
            { recordName, expected: ["new"], answers: [{ nameserver: bind.address, values: ["old"] }] },
        ]);
    });

    it("reports NODATA for a record that is not there", async () => {
        const recordName = challengeName();
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["abc"] }], direct));
        expect(error.message).toContain(`${bind.address} returned NODATA`);
        expect(error.records[0]!.answers).toEqual([{ nameserver: bind.address, values: [], error: "NODATA" }]);
    });

    it("lists the one missing value when apex and wildcard share a name", async () => {
        const recordName = challengeName();
        updater.setTxt(recordName, ["apex"]);
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["apex", "wildcard"] }], direct));
        expect(error.message).toContain(`expected ["apex","wildcard"], missing ["wildcard"]`);
        expect(error.message).toContain(`returned ["apex"]`);
    });

    it("names only the records still missing values", async () => {
        const ready = challengeName();
        const missing = challengeName();
        updater.setTxt(ready, ["here"]);
        const error = await timeoutOf(
            waitForTxtRecords(
                [
                    { recordName: ready, values: ["here"] },
                    { recordName: missing, values: ["gone"] },
                ],
                direct,
            ),
        );
        expect(error.records.map((record) => record.recordName)).toEqual([missing]);
        expect(error.message).not.toContain(ready);
    });

    it("follows a CNAME into another zone and checks the target", async () => {
        const alias = challengeName("other.test");
        const target = challengeName("delegated.test");
        updater.setCname(alias, target);
        updater.setTxt(target, ["delegated"]);
        await waitForTxtRecords([{ recordName: alias, values: ["delegated"] }], direct);
    });

    it("names the CNAME target when the target lacks the value", async () => {
        const alias = challengeName("other.test");
        const target = challengeName("delegated.test");
        updater.setCname(alias, target);
        const error = await timeoutOf(waitForTxtRecords([{ recordName: alias, values: ["delegated"] }], direct));
        expect(error.message).toContain(`TXT ${alias} (CNAME → ${target}) not visible after`);
        expect(error.message).toContain(`${bind.address} returned NODATA`);
    });

    it("reports a CNAME loop", async () => {
        const first = challengeName("other.test");
        const second = challengeName("delegated.test");
        updater.setCname(first, second);
        updater.setCname(second, first);
        const error = await timeoutOf(waitForTxtRecords([{ recordName: first, values: ["x"] }], direct));
        expect(error.message).toContain(
            `CNAME loop ${first} → ${second} → ${first}: point the CNAME at the name that holds the TXT record`,
        );
    });

    it("gives up on a CNAME chain longer than 8", async () => {
        const chain = Array.from({ length: 10 }, () => challengeName("other.test"));
        for (let i = 0; i + 1 < chain.length; i++) updater.setCname(chain[i]!, chain[i + 1]!);
        updater.setTxt(chain[chain.length - 1]!, ["x"]);
        const error = await timeoutOf(waitForTxtRecords([{ recordName: chain[0]!, values: ["x"] }], direct));
        expect(error.message).toContain(
            `more than 8 CNAMEs in a row (${chain.slice(0, 9).join(" → ")} → …): point ${chain[0]} at the name that holds the TXT record`,
        );
    });

    it("reports what a nameserver answers for a name in none of its zones", async () => {
        const recordName = "_acme-challenge.www.nowhere.invalid";
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["x"] }], direct));
        expect(error.message).toContain(`${bind.address} returned NXDOMAIN`);
    });

    it("looks up a nameserver given by name, labelling it with its address", async () => {
        const recordName = challengeName();
        const options = { ...direct, nameservers: [`ns1.example.test:${bind.port}`], discoveryServers: [bind.address] };
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["x"] }], options));
        expect(error.records[0]!.answers).toEqual([
            { nameserver: `ns1.example.test (127.0.0.1:${bind.port})`, values: [], error: "NODATA" },
        ]);
    });

    const badServers: Array<[string, string]> = [
        ["A URL is not a nameserver", "https://ns1.example.test"],
        ["A port out of range is rejected", "127.0.0.1:70000"],
        ["Brackets must hold an IPv6 address", "[ns1.example.test]:53"],
    ];
    it.each(badServers)("%s", async (_case, server) => {
        await expect(
            waitForTxtRecords([{ recordName: challengeName(), values: ["x"] }], { ...direct, nameservers: [server] }),
        ).rejects.toThrow(
            `propagation.nameservers: ${JSON.stringify(server)} is not a host or host:port: write e.g. "192.0.2.53", "ns1.example.com:5353" or "[2001:db8::53]:53"`,
        );
    });

    it("rejects an interval that would make it spin", async () => {
        await expect(waitForTxtRecords([], { ...direct, intervalSeconds: 0 })).rejects.toThrow(
            "propagation.intervalSeconds is 0: give a positive number of seconds, e.g. 5",
        );
    });
});

describe("waitForTxtRecords at discovered nameservers", () => {
    it("finds ns1 of the zone by SOA and NS and sees the values there", async () => {
        const recordName = challengeName();
        updater.setTxt(recordName, ["found"]);
        await waitForTxtRecords([{ recordName, values: ["found"] }], discovered);
    });

    it("names the discovered nameserver with its address in the error", async () => {
        const recordName = challengeName("other.test");
        updater.setTxt(recordName, ["old"]);
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["new"] }], discovered));
        expect(error.records[0]!.answers).toEqual([
            { nameserver: `ns1.other.test (127.0.0.1:${bind.port})`, values: ["old"] },
        ]);
    });

    it("rediscovers the nameservers of a CNAME target's zone", async () => {
        const alias = challengeName("other.test");
        const target = challengeName("delegated.test");
        updater.setCname(alias, target);
        const error = await timeoutOf(waitForTxtRecords([{ recordName: alias, values: ["delegated"] }], discovered));
        expect(error.records[0]!.answers).toEqual([
            { nameserver: `ns1.delegated.test (127.0.0.1:${bind.port})`, values: [], error: "NODATA" },
        ]);
        updater.setTxt(target, ["delegated"]);
        await waitForTxtRecords([{ recordName: alias, values: ["delegated"] }], discovered);
    });

    it("says clearly that a name is in no zone it can find", async () => {
        const recordName = "_acme-challenge.www.nowhere.invalid";
        const error = await timeoutOf(waitForTxtRecords([{ recordName, values: ["x"] }], discovered));
        expect(error.message).toContain(
            `found no zone for ${recordName}: neither it nor a parent name has an SOA record at ${bind.address} (${recordName}: NXDOMAIN, www.nowhere.invalid: NXDOMAIN, nowhere.invalid: NXDOMAIN, invalid: NXDOMAIN); create the record in a zone that is served publicly, or set propagation.nameservers`,
        );
        expect(error.records).toEqual([{ recordName, expected: ["x"], answers: [] }]);
    });
});

describe("waitForTxtRecords progress", () => {
    it("reports one line per round while a record is missing, and none once all are visible", async () => {
        const ready = challengeName();
        const late = challengeName();
        updater.setTxt(ready, ["here"]);
        let clock = 0;
        const lines: string[] = [];
        await waitForTxtRecords(
            [
                { recordName: ready, values: ["here"] },
                { recordName: late, values: ["late"] },
            ],
            {
                ...direct,
                timeoutSeconds: 30,
                intervalSeconds: 2,
                now: () => clock,
                // The record turns up during the second pause: two rounds report, the third succeeds.
                sleep: async (ms) => {
                    clock += ms;
                    if (clock >= 4000) updater.setTxt(late, ["late"]);
                },
                onProgress: (line) => lines.push(line),
            },
        );
        expect(lines).toEqual([
            "waiting for 1 of 2 TXT records at 1 nameserver (0s/30s)",
            "waiting for 1 of 2 TXT records at 1 nameserver (2s/30s)",
        ]);
    });

    it("stops at the timeout after one last round", async () => {
        let clock = 0;
        const lines: string[] = [];
        const recordName = challengeName();
        const error = await timeoutOf(
            waitForTxtRecords([{ recordName, values: ["never"] }], {
                ...direct,
                timeoutSeconds: 5,
                intervalSeconds: 2,
                now: () => clock,
                sleep: async (ms) => {
                    clock += ms;
                },
                onProgress: (line) => lines.push(line),
            }),
        );
        expect(lines).toEqual([
            "waiting for 1 of 1 TXT record at 1 nameserver (0s/5s)",
            "waiting for 1 of 1 TXT record at 1 nameserver (2s/5s)",
            "waiting for 1 of 1 TXT record at 1 nameserver (4s/5s)",
        ]);
        expect(error.message).toContain(`TXT ${recordName} not visible after 5s`);
    });
});
