// DNS-01 answers as ordinary aws.route53.Record resources, written with the stack's own AWS provider: visible in
// preview, in state and in the Route53 console, like any other record of the stack.
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { challengeRecordName, type DnsChallengeRecord, longestMatchingZone, normalizeDnsNames } from "../dns01/names";
import { awsSdk } from "./peers";

export interface Route53ChallengeRecordsArgs {
    /** The Order whose `dnsChallenges` to publish. */
    order: { dnsChallenges: pulumi.Input<DnsChallengeRecord[]>; plannedDnsNames?: readonly string[] };
    /**
     * The certificate's names, as plain values, so every record is known at preview.
     * @default the `dnsNames` the Order was given
     */
    domains?: readonly string[];
    /** One hosted zone for every record. */
    hostedZoneId?: pulumi.Input<string>;
    /** Hosted zone id per domain suffix, e.g. { "example.com": "Z1…", "example.org": "Z2…" }; the longest suffix wins. */
    hostedZones?: Record<string, pulumi.Input<string>>;
    /** @default 60 */
    ttl?: number;
    /**
     * CNAME delegation per name: `_acme-challenge.<name>` is a CNAME (set up once, by whoever owns that zone) to
     * `_acme-challenge.<target>`, so the TXT record is written at the target, in the target's hosted zone.
     * e.g. { "example.org": "example.org.acme-validation.example.net" }
     */
    delegations?: Record<string, string>;
}

/** A hosted zone can hold a TXT record set only with at least one value (see `valuesFor`). */
const NO_CHALLENGE_VALUE = "no-dns-01-challenge-pending";

/**
 * One `aws.route53.Record` (TXT) per `_acme-challenge` name of an Order, holding ALL its values: the apex and its
 * wildcard share one record with two values. Without `hostedZoneId` or `hostedZones`, each record's zone is looked
 * up with `aws.route53.getZone` by the longest suffix of its name that is a public hosted zone.
 *
 * Records are never written over a record set the program did not create (`allowOverwrite` stays false): a
 * leftover `_acme-challenge` record from another tool fails the create with Route53's own error. Values are given
 * unquoted; the AWS provider quotes TXT values itself.
 */
export class Route53ChallengeRecords extends pulumi.ComponentResource {
    /** One per `_acme-challenge` name, in the order of the domains. */
    readonly records: aws.route53.Record[];

    constructor(name: string, args: Route53ChallengeRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pulumi-acme-certs:index:Route53ChallengeRecords", name, {}, opts);
        const sdk = awsSdk("Route53ChallengeRecords");
        const plan = planChallengeRecords(args, this);
        const zones = new HostedZoneFinder(sdk, this);
        this.records = plan.map(
            ({ recordName, target }) =>
                new sdk.route53.Record(
                    `${name}-${recordName}`,
                    {
                        zoneId: zoneIdFor(target, args, zones),
                        name: target,
                        type: "TXT",
                        ttl: args.ttl ?? 60,
                        records: pulumi
                            .output(args.order.dnsChallenges)
                            .apply((records) => valuesFor(records, recordName)),
                    },
                    { parent: this },
                ),
        );
        this.registerOutputs({ records: this.records });
    }
}

/** Each challenge record name, and where its TXT record is written (itself, or its delegation target). */
export function planChallengeRecords(
    args: Route53ChallengeRecordsArgs,
    parent: pulumi.Resource,
): Array<{ recordName: string; target: string }> {
    const given = args.domains ?? args.order.plannedDnsNames;
    if (given === undefined) {
        throw new pulumi.ResourceError(
            "the record names must be known at preview: pass `domains`, or give the Order plain `dnsNames`",
            parent,
        );
    }
    const { names, problems } = normalizeDnsNames(given);
    if (problems.length > 0) throw new pulumi.ResourceError(`domains: ${problems.join("; ")}`, parent);
    if (args.hostedZoneId !== undefined && args.hostedZones !== undefined) {
        throw new pulumi.ResourceError("give either hostedZoneId or hostedZones, not both", parent);
    }
    const delegations = normalizedKeys(args.delegations ?? {});
    for (const delegated of Object.keys(delegations)) {
        if (!names.some((n) => n.replace(/^\*\./, "") === delegated)) {
            throw new pulumi.ResourceError(
                `delegations[${JSON.stringify(delegated)}] is for none of the names: remove it or fix the name`,
                parent,
            );
        }
    }
    const recordNames = [...new Set(names.map(challengeRecordName))];
    const plan = recordNames.map((recordName) => {
        const base = recordName.slice("_acme-challenge.".length);
        const target = delegations[base];
        return { recordName, target: target === undefined ? recordName : challengeRecordName(target) };
    });
    if (args.hostedZones !== undefined) {
        const suffixes = Object.keys(normalizedKeys(args.hostedZones));
        for (const { target } of plan) {
            if (longestMatchingZone(target, suffixes) === undefined) {
                throw new pulumi.ResourceError(
                    `no entry of hostedZones covers ${target}: add its zone (one of ${suffixes.join(", ")} was expected to match)`,
                    parent,
                );
            }
        }
        for (const suffix of suffixes) {
            if (!plan.some(({ target }) => longestMatchingZone(target, [suffix]) !== undefined)) {
                throw new pulumi.ResourceError(
                    `hostedZones[${JSON.stringify(suffix)}] covers none of the names: remove it or fix its suffix`,
                    parent,
                );
            }
        }
    }
    return plan;
}

function normalizedKeys<T>(map: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(map).map(([key, value]) => [key.toLowerCase().replace(/\.$/, ""), value]));
}

function zoneIdFor(target: string, args: Route53ChallengeRecordsArgs, zones: HostedZoneFinder): pulumi.Input<string> {
    if (args.hostedZoneId !== undefined) return args.hostedZoneId;
    if (args.hostedZones !== undefined) {
        const zones = normalizedKeys(args.hostedZones);
        return zones[longestMatchingZone(target, Object.keys(zones))!]!;
    }
    return zones.find(target);
}

/** Every value the order expects at this name; a name whose authorizations the CA already holds valid gets a placeholder. */
function valuesFor(records: readonly DnsChallengeRecord[], recordName: string): string[] {
    const values = records.find((record) => record.recordName === recordName)?.values ?? [];
    return values.length > 0 ? values : [NO_CHALLENGE_VALUE];
}

/** Looks up public hosted zones by the longest suffix of a name, once per candidate. */
class HostedZoneFinder {
    private readonly lookups = new Map<string, Promise<string | undefined>>();

    constructor(
        private readonly sdk: typeof aws,
        private readonly parent: pulumi.Resource,
    ) {}

    find(name: string): pulumi.Output<string> {
        return pulumi.output(this.longestZone(name));
    }

    private async longestZone(name: string): Promise<string> {
        const labels = name.split(".");
        // Never a zone of its own: the challenge label itself, and a bare TLD.
        for (let i = 1; i < labels.length - 1; i++) {
            const zoneId = await this.lookup(labels.slice(i).join("."));
            if (zoneId !== undefined) return zoneId;
        }
        throw new pulumi.ResourceError(
            `no public Route53 hosted zone found for ${name}: pass hostedZoneId or hostedZones, or create the zone`,
            this.parent,
        );
    }

    private lookup(zone: string): Promise<string | undefined> {
        let lookup = this.lookups.get(zone);
        if (lookup === undefined) {
            lookup = this.sdk.route53
                .getZone({ name: zone, privateZone: false }, { parent: this.parent })
                .then((found) => found.zoneId)
                .catch(() => undefined);
            this.lookups.set(zone, lookup);
        }
        return lookup;
    }
}
