// Order: an ACME order for the names of a CSR (RFC 8555 §7.4), and the challenge answers it needs published.
// It never answers challenges itself: the records are created from its outputs, after it, by other resources.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { type AcmeAuthorization, accountClient } from "../acme/client";
import { type AuthorizationStatus, isPendingAuthorization, type OrderStatus } from "../acme/status";
import { describeCertificate, splitPemChain } from "../crypto/certificate";
import { inspectCsr } from "../crypto/csr";
import { type DnsChallengeRecord, groupDnsChallenges, isWildcard, normalizeDnsNames } from "../dns01/names";
import { parseDuration } from "../renewal/duration";
import { lifetimeSeconds, renewAt, renewBeforeProblem } from "../renewal/policy";
import { type AccountFields, type AcmeAccountArgs, accountInputs, accountRef, checkAccountFields } from "./account";
import {
    changedKeys,
    checkResult,
    containsUnknown,
    Failures,
    isUnknown,
    jsonClean,
    optionalString,
    report,
    TYPE_MODULE,
    updateDiff,
} from "./dynamic";

export type ChallengeType = "dns-01" | "http-01";
export const CHALLENGE_TYPES: readonly ChallengeType[] = ["dns-01", "http-01"];

export interface OrderArgs {
    /** The account that orders: a Registration. */
    account: AcmeAccountArgs;
    /** The CSR whose names are ordered, e.g. `csr.csrPem` of a CertificateRequest. */
    csrPem: pulumi.Input<string>;
    /**
     * The names to order, checked against the CSR's. Given as plain values, they let challenge-record components
     * plan every record at preview. @default the CSR's names
     */
    dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
    /** How the names are validated. Wildcards need dns-01. @default "dns-01" */
    challengeType?: pulumi.Input<ChallengeType>;
    /** An ACME profile the CA offers (e.g. Let's Encrypt's "tlsserver" or "shortlived"). */
    profile?: pulumi.Input<string>;
    /**
     * How long before the certificate expires to order its renewal, e.g. "30d" or "720h". Give the Certificate the
     * same value. @default a third of the lifetime (half for certificates of 10 days or less)
     */
    renewBefore?: pulumi.Input<string>;
}

export interface OrderInputs extends AccountFields {
    csrPem: string;
    /** Normalised; null when not given (the CSR's names are ordered). */
    dnsNames: string[] | null;
    challengeType: ChallengeType;
    profile: string | null;
    renewBefore: string | null;
}

/** One authorization of the order, as the certificate needs it to answer. */
export interface OrderAuthorization {
    url: string;
    /** The name as ordered: `*.example.com` for a wildcard. */
    name: string;
    status: AuthorizationStatus;
    /** The challenge of the order's type; null when the authorization is already valid and offers none. */
    challengeUrl: string | null;
    token: string | null;
}

export interface HttpChallenge {
    domain: string;
    token: string;
    /** `/.well-known/acme-challenge/<token>` */
    path: string;
    /** The exact response body to serve at `http://<domain><path>`. */
    keyAuthorization: string;
}

export interface OrderOutputs extends OrderInputs {
    orderUrl: string;
    status: OrderStatus;
    expires: string | null;
    dnsNames: string[];
    authorizations: OrderAuthorization[];
    /** One entry per `_acme-challenge` name; apex and wildcard share one entry with two values. */
    dnsChallenges: DnsChallengeRecord[];
    httpChallenges: HttpChallenge[];
    createdAt: string;
    /** Of the certificate this order led to, once a refresh has read it from the CA. */
    certificateUrl: string | null;
    certificateNotBefore: string | null;
    certificateNotAfter: string | null;
    /**
     * When to place the next order. Exact once a refresh has seen this order's certificate; before that, estimated
     * from the previous certificate's lifetime; null for a first order whose certificate no refresh has seen yet
     * (the Certificate's own renewal point covers that case).
     */
    renewAt: string | null;
}

const PROFILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function check(
    _olds: unknown,
    news: Partial<Record<keyof OrderInputs, unknown>>,
): Promise<pulumi.dynamic.CheckResult> {
    const failures = new Failures();
    const account = checkAccountFields(news, failures);
    const challengeType = checkChallengeType(news.challengeType, "challengeType", failures);
    const csrNames = await checkCsr(news.csrPem, challengeType, failures);
    const dnsNames = checkOrderedNames(news.dnsNames, csrNames, failures);
    const profile = optionalString(news.profile);
    if (profile !== null && !isUnknown(profile) && !PROFILE.test(profile)) {
        failures.add(
            "profile",
            `profile ${JSON.stringify(profile)} is not a profile name: use one the CA lists, e.g. "tlsserver"`,
        );
    }
    const renewBefore = optionalString(news.renewBefore);
    checkRenewBefore(renewBefore, failures);
    const inputs = { ...account, csrPem: news.csrPem, dnsNames, challengeType, profile, renewBefore };
    return checkResult(inputs, failures);
}

/** The order's own names, when given: normalised, and the same set as the CSR's. */
function checkOrderedNames(value: unknown, csrNames: string[] | null, failures: Failures): unknown {
    if (value === undefined || value === null) return null;
    if (containsUnknown(value)) return value;
    if (!Array.isArray(value)) {
        failures.add("dnsNames", "dnsNames must be a list of names");
        return value;
    }
    const { names, problems } = normalizeDnsNames(value);
    for (const problem of problems) failures.add("dnsNames", problem);
    if (csrNames !== null && problems.length === 0 && !sameNames(names, csrNames)) {
        failures.add("csrPem", namesDifferProblem(csrNames, names));
    }
    return names;
}

/** Shared with Certificate: the same names in any order. */
export function sameNames(a: readonly unknown[], b: readonly unknown[]): boolean {
    return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

export function namesDifferProblem(csrNames: readonly string[], orderNames: readonly unknown[]): string {
    return (
        `the CSR's names [${csrNames.join(", ")}] differ from the order's [${orderNames.join(", ")}]: ` +
        "give the Order and the Certificate the CertificateRequest made for these names"
    );
}

/**
 * Shared with Certificate (which reports it under `order`, where its value comes from): the challenge type,
 * "dns-01" when none is given, or a failure.
 */
export function checkChallengeType(value: unknown, property: string, failures: Failures): unknown {
    const challengeType = value ?? "dns-01";
    if (!isUnknown(challengeType) && !CHALLENGE_TYPES.includes(challengeType as ChallengeType)) {
        failures.add(
            property,
            `challengeType ${JSON.stringify(challengeType)} is not supported: use "dns-01" or "http-01"`,
        );
    }
    return challengeType;
}

/** Shared with Certificate: the CSR must be well formed, self-signed, and name only names the challenge can prove. */
export async function checkCsr(csrPem: unknown, challengeType: unknown, failures: Failures): Promise<string[] | null> {
    if (isUnknown(csrPem)) return null;
    if (typeof csrPem !== "string" || csrPem.length === 0) {
        failures.add("csrPem", "csrPem is required: pass the csrPem output of a CertificateRequest");
        return null;
    }
    const inspected = await inspectCsr(csrPem);
    if ("problem" in inspected) {
        failures.add("csrPem", inspected.problem);
        return null;
    }
    if (!inspected.csr.signatureValid) {
        failures.add(
            "csrPem",
            "csrPem's signature does not verify with the public key it carries: it was altered or not signed by its key; " +
                "build it with a CertificateRequest from the certificate's PrivateKey",
        );
    }
    const { names, problems } = normalizeDnsNames(inspected.csr.dnsNames);
    for (const problem of problems) failures.add("csrPem", `the CSR's names: ${problem}`);
    if (challengeType === "http-01") {
        for (const name of names.filter(isWildcard)) {
            failures.add(
                "challengeType",
                `${name} is a wildcard, which only dns-01 can validate: use challengeType "dns-01"`,
            );
        }
    }
    return names;
}

/** Shared with Certificate. */
export function checkRenewBefore(renewBefore: string | null, failures: Failures): void {
    if (renewBefore === null || isUnknown(renewBefore)) return;
    const parsed = parseDuration(renewBefore);
    if ("problem" in parsed) failures.add("renewBefore", `renewBefore: ${parsed.problem}`);
}

/** renewBefore in seconds, for checked inputs (already validated). */
export function renewBeforeSeconds(renewBefore: string | null): number | null {
    if (renewBefore === null) return null;
    const parsed = parseDuration(renewBefore);
    return "seconds" in parsed ? parsed.seconds : null;
}

/** Why this order cannot (or should no longer) lead to the certificate the inputs describe; empty when it can. */
export function newOrderReasons(olds: OrderOutputs, news: OrderInputs, now: number): string[] {
    const reasons = changedKeys(olds, news, ["directoryUrl", "accountUrl", "csrPem", "challengeType", "profile"]).map(
        (key) => `${key} changed`,
    );
    // The stored status is only as fresh as the last refresh: an order no refresh has read since it was placed
    // still says "pending" though its certificate may have been issued long ago, so its expiry date proves
    // nothing. A refresh reads the truth, and the CA reports an expired or failed order as invalid.
    if (olds.status === "invalid") reasons.push("the order is invalid (a challenge failed, or it expired unused)");
    const due = renewalPointOf(olds, news.renewBefore);
    if (due !== null && now >= Date.parse(due)) reasons.push(`its certificate is due for renewal (since ${due})`);
    return reasons;
}

/** The order's renewal point under the current renewBefore: exact when its certificate is known. */
function renewalPointOf(order: OrderOutputs, renewBefore: string | null): string | null {
    if (isUnknown(renewBefore)) return order.renewAt;
    if (order.certificateNotBefore !== null && order.certificateNotAfter !== null) {
        const validity = { notBefore: order.certificateNotBefore, notAfter: order.certificateNotAfter };
        const seconds = renewBeforeSeconds(renewBefore);
        // Fails the preview, as the Certificate's diff does: this renewBefore would place a new order on every run.
        const problem = seconds === null ? undefined : renewBeforeProblem(seconds, validity);
        if (problem) throw new Error(`${order.dnsNames.join(", ")}: ${problem}`);
        return renewAt(validity, seconds);
    }
    return order.renewAt;
}

export async function diff(_id: string, olds: OrderOutputs, news: OrderInputs): Promise<pulumi.dynamic.DiffResult> {
    const reasons = newOrderReasons(olds, news, Date.now());
    if (reasons.length > 0) report(olds.dnsNames.join(", "), `a new order will be placed: ${reasons.join("; ")}`);
    const stateOnly = changedKeys(olds, news, ["renewBefore", "caCertificatesPem", "accountKeyPem"]);
    // Renewal is an update in place: the resource (and its id) stays, its order is replaced.
    return updateDiff([...reasons, ...stateOnly]);
}

export async function create(inputs: OrderInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: crypto.randomUUID(), outs: await placeOrder(inputs, null) };
}

export async function update(id: string, olds: OrderOutputs, news: OrderInputs): Promise<pulumi.dynamic.UpdateResult> {
    const reasons = newOrderReasons(olds, news, Date.now());
    if (reasons.length === 0) {
        // The ordered names stay those of the order in place (news.dnsNames may be null: "the CSR's").
        return {
            outs: jsonClean({
                ...olds,
                ...news,
                dnsNames: olds.dnsNames,
                renewAt: renewalPointOf(olds, news.renewBefore),
            }),
        };
    }
    await abandon(olds);
    // The previous certificate's lifetime is the best estimate of the next one's, until a refresh sees it.
    const previousLifetime =
        olds.certificateNotBefore !== null && olds.certificateNotAfter !== null
            ? lifetimeSeconds({ notBefore: olds.certificateNotBefore, notAfter: olds.certificateNotAfter })
            : null;
    report(olds.dnsNames.join(", "), `placing a new order (${id}): ${reasons.join("; ")}`);
    return { outs: await placeOrder(news, previousLifetime) };
}

async function placeOrder(inputs: OrderInputs, previousLifetimeSeconds: number | null): Promise<OrderOutputs> {
    const client = accountClient(accountRef(inputs));
    const inspected = await inspectCsr(inputs.csrPem);
    if ("problem" in inspected) throw new Error(`Unable to place an order: ${inspected.problem}`);
    const dnsNames = normalizeDnsNames(inspected.csr.dnsNames).names;
    const order = await client.createOrder({ dnsNames, profile: inputs.profile });
    const authorizations = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    const entries = authorizations.map((authz) => challengeOf(authz, inputs.challengeType));
    // Present records in the order the names were given, so record names are stable across runs.
    entries.sort((a, b) => dnsNames.indexOf(a.name) - dnsNames.indexOf(b.name));
    const now = Date.now();
    const estimate =
        previousLifetimeSeconds === null
            ? null
            : renewAt(
                  {
                      notBefore: new Date(now).toISOString(),
                      notAfter: new Date(now + previousLifetimeSeconds * 1000).toISOString(),
                  },
                  renewBeforeSeconds(inputs.renewBefore),
              );
    return jsonClean({
        ...inputs,
        orderUrl: order.url,
        status: order.status,
        expires: order.expires,
        dnsNames,
        authorizations: entries.map(({ authorization }) => authorization),
        dnsChallenges:
            inputs.challengeType === "dns-01"
                ? groupDnsChallenges(
                      entries.flatMap(({ name, token }) =>
                          token ? [{ name, value: client.dns01TxtValue(token) }] : [],
                      ),
                  )
                : [],
        httpChallenges:
            inputs.challengeType === "http-01"
                ? entries.flatMap(({ domain, token }) =>
                      token
                          ? [
                                {
                                    domain,
                                    token,
                                    path: `/.well-known/acme-challenge/${token}`,
                                    keyAuthorization: client.keyAuthorization(token),
                                },
                            ]
                          : [],
                  )
                : [],
        createdAt: new Date(now).toISOString(),
        certificateUrl: null,
        certificateNotBefore: null,
        certificateNotAfter: null,
        renewAt: estimate,
    });
}

/** The authorization as the certificate needs it, with the challenge of the order's type. */
function challengeOf(authz: AcmeAuthorization, challengeType: ChallengeType) {
    const name = authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
    // A valid authorization (reused by the CA) needs no answer, but its validated challenge still gives a stable
    // value to publish, so every name keeps a record.
    const challenge = authz.challenges.find((c) => c.type === challengeType) ?? null;
    if (challenge === null && isPendingAuthorization(authz.status)) {
        const offered = authz.challenges.map((c) => c.type).join(", ") || "none";
        throw new Error(
            `Unable to place an order for ${name}: the CA offers no ${challengeType} challenge for it (offered: ${offered}); ` +
                `use another challengeType`,
        );
    }
    const authorization: OrderAuthorization = {
        url: authz.url,
        name,
        status: authz.status,
        challengeUrl: challenge?.url ?? null,
        token: challenge?.token ?? null,
    };
    return { authorization, name, domain: authz.identifier.value, token: challenge?.token ?? null };
}

export async function read(id: string, props: OrderOutputs): Promise<pulumi.dynamic.ReadResult> {
    // Once the certificate is known (or the order is dead) there is nothing more to learn: no request at all.
    if (props.certificateNotAfter !== null || props.status === "invalid") return { id, props };
    const client = accountClient(accountRef(props));
    try {
        const order = await client.getOrder(props.orderUrl);
        let next: OrderOutputs = { ...props, status: order.status, expires: order.expires };
        if (order.status === "valid" && order.certificate !== null) {
            const [leafPem] = splitPemChain(await client.downloadCertificate(order.certificate));
            const leaf = describeCertificate(leafPem!);
            const validity = { notBefore: leaf.notBefore, notAfter: leaf.notAfter };
            next = {
                ...next,
                certificateUrl: order.certificate,
                certificateNotBefore: leaf.notBefore,
                certificateNotAfter: leaf.notAfter,
                renewAt: renewAt(validity, renewBeforeSeconds(props.renewBefore)),
            };
        }
        return { id, props: jsonClean(next) };
    } catch (error) {
        // A refresh must not fail because the CA is unreachable: the stored state stays, the Certificate's own
        // renewal point still applies, and the next refresh tries again.
        report(
            props.dnsNames.join(", "),
            `could not read the order from the CA, keeping what is stored: ${messageOf(error)}`,
        );
        return { id, props };
    }
}

async function deleteOrder(_id: string, props: OrderOutputs): Promise<void> {
    await abandon(props);
}

export { deleteOrder as delete };

/**
 * Deactivates what an unfinished order leaves pending at the CA (so it does not count against the account's
 * pending-authorization limit). Best effort: the order expires on its own anyway, so a failure is reported, not
 * thrown.
 */
async function abandon(order: OrderOutputs): Promise<void> {
    if (order.status === "valid" || order.status === "invalid") return;
    const client = accountClient(accountRef(order));
    const pending = order.authorizations.filter((authz) => isPendingAuthorization(authz.status));
    const results = await Promise.allSettled(pending.map((authz) => client.deactivateAuthorization(authz.url)));
    for (const [index, result] of results.entries()) {
        if (result.status === "rejected") {
            report(pending[index]!.name, `could not deactivate its pending authorization: ${messageOf(result.reason)}`);
        }
    }
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

/** This module's exports are the provider: Pulumi serializes them as a require() of this file. */
const provider: pulumi.dynamic.ResourceProvider = module.exports;

/** What a Certificate needs of its Order: an Order, or the same outputs. */
export interface OrderReference {
    orderUrl: pulumi.Input<string>;
    challengeType: pulumi.Input<ChallengeType>;
    dnsNames: pulumi.Input<string[]>;
    authorizations: pulumi.Input<OrderAuthorization[]>;
    dnsChallenges: pulumi.Input<DnsChallengeRecord[]>;
}

/**
 * An ACME order for the names of a CSR. Creating it places the order and fetches its authorizations; it then
 * publishes what the CA will check — `dnsChallenges` (one TXT record per `_acme-challenge` name, with all its
 * values) or `httpChallenges` — for records or a web server declared after it, and a Certificate after those.
 *
 * Renewal: the order is renewed in place (same resource, new ACME order, new challenge values) when its
 * certificate is due. The due date is exact once a refresh (`pulumi up --refresh`, `pulumi refresh`) has read this
 * order's certificate from the CA; until then it is estimated from the previous certificate's lifetime. A new order
 * is also placed when the CSR, account, challenge type or profile changes, or when the order died (invalid or
 * expired, as a refresh reports).
 */
export class Order extends pulumi.dynamic.Resource {
    declare readonly orderUrl: pulumi.Output<string>;
    declare readonly status: pulumi.Output<OrderStatus>;
    declare readonly expires: pulumi.Output<string | null>;
    declare readonly challengeType: pulumi.Output<ChallengeType>;
    declare readonly dnsNames: pulumi.Output<string[]>;
    declare readonly authorizations: pulumi.Output<OrderAuthorization[]>;
    declare readonly dnsChallenges: pulumi.Output<DnsChallengeRecord[]>;
    declare readonly httpChallenges: pulumi.Output<HttpChallenge[]>;
    declare readonly renewAt: pulumi.Output<string | null>;
    declare readonly certificateNotAfter: pulumi.Output<string | null>;
    /** The normalised names, when `dnsNames` was given as plain values: what records can be planned from at preview. */
    readonly plannedDnsNames: readonly string[] | undefined;

    constructor(name: string, args: OrderArgs, opts?: pulumi.CustomResourceOptions) {
        const { account, ...rest } = args;
        super(
            provider,
            name,
            {
                orderUrl: undefined,
                status: undefined,
                expires: undefined,
                dnsNames: undefined,
                authorizations: undefined,
                dnsChallenges: undefined,
                httpChallenges: undefined,
                renewAt: undefined,
                certificateNotAfter: undefined,
                challengeType: undefined,
                ...rest,
                ...accountInputs(account),
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["accountKeyPem"] }),
            TYPE_MODULE,
            "Order",
        );
        this.plannedDnsNames = plainNames(args.dnsNames);
    }
}

function plainNames(value: OrderArgs["dnsNames"]): string[] | undefined {
    if (!Array.isArray(value) || !value.every((name) => typeof name === "string")) return undefined;
    const { names, problems } = normalizeDnsNames(value as string[]);
    return problems.length === 0 ? names : undefined;
}
