// Route53 emulated on the stack's BIND: `aws:route53/record:Record` record sets become RFC 2136 updates, hosted
// zones come from the services file, and `aws:route53/getZone:getZone` looks them up. Only what our library uses
// (TXT and CNAME) is emulated; anything else fails with a message that says so.
import * as dns from "node:dns";
import { DnsUpdater } from "../../stack/bind";
import type { PropertyMap } from "../values";
import {
    type EmulatorContext,
    type EmulatorRequest,
    type ExistingResource,
    type ResourceEmulator,
    requireService,
    type ServicesConfig,
} from "./types";

const SUPPORTED_TYPES = ["TXT", "CNAME"];

/**
 * How the AWS provider writes a TXT value to Route53: always wrapped in double quotes, whatever it holds
 * (terraform-provider-aws, internal/service/route53: `flattenTxtEntry` is `fmt.Sprintf(`"%s"`, s)`). Route53 then
 * reads the result in zone-file presentation format. So programs must give bare values: a value quoted by the
 * program arrives with extra quotes and no longer matches what the CA expects.
 */
export function txtPresentation(value: string): string {
    return `"${value}"`;
}

/** The record's full name: Route53 accepts a name relative to the zone or absolute, with or without the dot. */
export function recordFqdn(name: string, zone: string): string {
    const bare = name.replace(/\.$/, "").toLowerCase();
    return bare === zone || bare.endsWith(`.${zone}`) ? bare : `${bare}.${zone}`;
}

/** The hosted-zone table lookup behind getZone: by id, or by name (trailing dot optional). */
export function findHostedZone(
    services: ServicesConfig,
    by: { zoneId?: string; name?: string },
): { zoneId: string; name: string } {
    const zones = Object.entries(services.hostedZones ?? {});
    const wantedName = by.name?.replace(/\.$/, "").toLowerCase();
    const found = zones.find(([zoneId, name]) => (by.zoneId ? zoneId === by.zoneId : name === wantedName));
    if (!found) {
        const known = zones.map(([id, name]) => `${id} (${name})`).join(", ") || "none";
        throw new Error(
            `NoSuchHostedZone: no hosted zone found with ${by.zoneId ? `ID ${by.zoneId}` : `name ${by.name}`}; ` +
                `the services file's hostedZones has ${known}`,
        );
    }
    return { zoneId: found[0], name: found[1] };
}

/** The getZone data source: `{id, zoneId, name, ...}` from the hosted-zone table. */
export function getZone(services: ServicesConfig, inputs: PropertyMap): PropertyMap {
    const zone = findHostedZone(services, {
        zoneId: typeof inputs.zoneId === "string" ? inputs.zoneId : undefined,
        name: typeof inputs.name === "string" ? inputs.name : undefined,
    });
    return {
        id: zone.zoneId,
        zoneId: zone.zoneId,
        name: zone.name,
        arn: `arn:aws:route53:::hostedzone/${zone.zoneId}`,
        nameServers: [`ns1.${zone.name}`],
        privateZone: false,
        comment: "",
        resourceRecordSetCount: 2,
        tags: {},
    };
}

interface RecordSet {
    fqdn: string;
    zoneId: string;
    type: string;
    rdata: string[];
    ttl: number;
}

export class Route53Emulator implements ResourceEmulator {
    // Route53 applies change batches one at a time; so do we, so that two creates of one name cannot both pass
    // the existence check.
    private queue: Promise<unknown> = Promise.resolve();

    create(request: EmulatorRequest, context: EmulatorContext): Promise<{ id: string; outputs: PropertyMap }> {
        return this.serialized(async () => {
            const set = recordSetOf(request, context.services);
            const ownedBefore =
                context.previousOutputs?.fqdn === set.fqdn && context.previousOutputs?.type === set.type;
            if (
                request.inputs.allowOverwrite !== true &&
                !ownedBefore &&
                (await exists(set, context.services, request.urn))
            ) {
                throw new Error(
                    `creating Route53 Record: InvalidChangeBatch: [Tried to create resource record set ` +
                        `[name='${set.fqdn}.', type='${set.type}'] but it already exists]`,
                );
            }
            this.apply(set, context, request.urn);
            return { id: `${set.zoneId}_${set.fqdn}_${set.type}`, outputs: { ...request.inputs, fqdn: set.fqdn } };
        });
    }

    update(_existing: ExistingResource, request: EmulatorRequest, context: EmulatorContext): Promise<PropertyMap> {
        return this.serialized(async () => {
            const set = recordSetOf(request, context.services);
            this.apply(set, context, request.urn);
            return { ...request.inputs, fqdn: set.fqdn };
        });
    }

    delete(existing: ExistingResource, context: EmulatorContext): Promise<void> {
        return this.serialized(async () => {
            const { fqdn, type } = existing.outputs;
            updaterFor(context.services, existing.urn).setRecordSet(String(fqdn), String(type), []);
        });
    }

    private apply(set: RecordSet, context: EmulatorContext, urn: string): void {
        updaterFor(context.services, urn).setRecordSet(set.fqdn, set.type, set.rdata, set.ttl);
    }

    private serialized<T>(operation: () => Promise<T>): Promise<T> {
        const result = this.queue.then(operation);
        this.queue = result.catch(() => undefined);
        return result;
    }
}

function recordSetOf(request: EmulatorRequest, services: ServicesConfig): RecordSet {
    const { zoneId, name, type, records, ttl } = request.inputs;
    if (typeof zoneId !== "string" || typeof name !== "string" || typeof type !== "string") {
        throw new Error("creating Route53 Record: zoneId, name and type are required");
    }
    if (!SUPPORTED_TYPES.includes(type)) {
        throw new Error(
            `the harness emulates Route53 ${SUPPORTED_TYPES.join(" and ")} records only, not ${type}: ` +
                "extend test/harness/services/route53.ts",
        );
    }
    if (!Array.isArray(records) || records.length === 0 || !records.every((r) => typeof r === "string")) {
        throw new Error(
            `creating Route53 Record: records must be a non-empty list of strings (aliases are not emulated)`,
        );
    }
    const values = records as string[];
    if (type === "CNAME" && values.length !== 1) {
        throw new Error(`creating Route53 Record: a CNAME record set holds exactly one value, got ${values.length}`);
    }
    const zone = findHostedZone(services, { zoneId });
    return {
        fqdn: recordFqdn(name, zone.name),
        zoneId,
        type,
        rdata: type === "TXT" ? values.map(txtPresentation) : values.map((v) => (v.endsWith(".") ? v : `${v}.`)),
        ttl: typeof ttl === "number" ? ttl : 300,
    };
}

function updaterFor(services: ServicesConfig, urn: string): DnsUpdater {
    return new DnsUpdater(requireService(services.bind, "bind (the stack's BIND)", urn));
}

async function exists(set: RecordSet, services: ServicesConfig, urn: string): Promise<boolean> {
    const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 2 });
    resolver.setServers([requireService(services.bind, "bind (the stack's BIND)", urn).address]);
    try {
        const answers =
            set.type === "TXT" ? await resolver.resolveTxt(set.fqdn) : await resolver.resolveCname(set.fqdn);
        return answers.length > 0;
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === dns.NODATA || code === dns.NOTFOUND) return false;
        throw error;
    }
}
