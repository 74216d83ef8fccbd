// The main job's stack config, read and checked once, before anything is declared: a mistake fails the run with
// one sentence that names the key to set, instead of a half-declared stack.
import * as pulumi from "@pulumi/pulumi";
import type * as acme from "pulumi-acme-certs";

export const DELIVERIES = ["kubernetes-secret", "load-balancer"] as const;

/** Where the certificate goes. */
export type Delivery =
    | { kind: "kubernetes-secret"; namespace: string; secretName: string }
    | { kind: "load-balancer"; listenerArn: string }
    | { kind: "load-balancer"; loadBalancerArn: string; targetGroupArn: string; port: number | undefined };

/** Which Route53 hosted zone holds each challenge record. */
export type Zones =
    | { zone: string }
    | { hostedZoneId: string }
    | { hostedZones: Record<string, string> }
    /** Each record's zone is looked up by the longest suffix of its name. */
    | { lookup: true };

export interface Settings {
    domains: string[];
    zones: Zones;
    delegations: Record<string, string> | undefined;
    renewBefore: string | undefined;
    keyAlgorithm: acme.KeyAlgorithmName | undefined;
    propagation: acme.PropagationArgs | undefined;
    delivery: Delivery;
}

const KEY_ALGORITHMS: readonly acme.KeyAlgorithmName[] = ["P256", "P384", "RSA2048", "RSA3072", "RSA4096"];

export function readSettings(config: pulumi.Config): Settings {
    const domains = config.getObject<unknown>("domains");
    if (
        !Array.isArray(domains) ||
        domains.length === 0 ||
        !domains.every((d): d is string => typeof d === "string" && d !== "")
    ) {
        fail(`set domains to the certificate's names: pulumi config set domains '["example.com", "*.example.com"]'`);
    }
    const keyAlgorithm = config.get("keyAlgorithm");
    if (keyAlgorithm !== undefined && !KEY_ALGORITHMS.includes(keyAlgorithm as acme.KeyAlgorithmName)) {
        fail(`keyAlgorithm ${JSON.stringify(keyAlgorithm)} is not one of ${KEY_ALGORITHMS.join(", ")}`);
    }
    return {
        domains,
        zones: readZones(config),
        delegations: config.getObject<Record<string, string>>("delegations"),
        renewBefore: config.get("renewBefore"),
        keyAlgorithm: keyAlgorithm as acme.KeyAlgorithmName | undefined,
        propagation: config.getObject<acme.PropagationArgs>("propagation"),
        delivery: readDelivery(config, domains),
    };
}

function readZones(config: pulumi.Config): Zones {
    const given = {
        zone: config.get("zone"),
        hostedZoneId: config.get("hostedZoneId"),
        hostedZones: config.getObject<Record<string, string>>("hostedZones"),
    };
    const set = Object.entries(given).filter(([, value]) => value !== undefined);
    if (set.length > 1)
        fail(`give one of zone, hostedZoneId and hostedZones, not ${set.map(([k]) => k).join(" and ")}`);
    if (given.zone !== undefined) return { zone: given.zone };
    if (given.hostedZoneId !== undefined) return { hostedZoneId: given.hostedZoneId };
    if (given.hostedZones !== undefined) return { hostedZones: given.hostedZones };
    return { lookup: true };
}

function readDelivery(config: pulumi.Config, domains: string[]): Delivery {
    const kind = config.get("delivery") ?? "kubernetes-secret";
    if (kind === "kubernetes-secret") {
        return {
            kind,
            namespace: config.get("namespace") ?? "default",
            secretName: config.get("secretName") ?? defaultSecretName(domains),
        };
    }
    if (kind === "load-balancer") {
        const listenerArn = config.get("listenerArn");
        const loadBalancerArn = config.get("loadBalancerArn");
        if (listenerArn !== undefined && loadBalancerArn !== undefined) {
            fail(
                "give either listenerArn (attach to that listener) or loadBalancerArn (a new HTTPS listener), not both",
            );
        }
        if (listenerArn !== undefined) return { kind, listenerArn };
        if (loadBalancerArn === undefined) {
            fail(
                "delivery load-balancer needs listenerArn (an existing HTTPS listener) or loadBalancerArn and " +
                    "targetGroupArn (a new HTTPS listener forwarding there)",
            );
        }
        const targetGroupArn = config.get("targetGroupArn");
        if (targetGroupArn === undefined) fail("a new HTTPS listener needs targetGroupArn: where it forwards to");
        return { kind, loadBalancerArn, targetGroupArn, port: config.getNumber("port") };
    }
    return fail(`delivery ${JSON.stringify(kind)} is not one of ${DELIVERIES.join(", ")}`);
}

/** `example.com` and `*.example.com` → `example-com-tls`: a valid Secret name that says what it holds. */
export function defaultSecretName(domains: readonly string[]): string {
    const base = domains[0]!.replace(/^\*\./, "").replace(/\.$/, "").toLowerCase().replaceAll(".", "-");
    return `${base.slice(0, 249)}-tls`;
}

function fail(message: string): never {
    throw new pulumi.RunError(`config: ${message}`);
}
