// The fixed shape every dynamic resource of this package shares: how the engine's wire values look to a provider,
// and the few helpers each provider needs to answer check and diff the same way.
import type * as pulumi from "@pulumi/pulumi";

/** `pulumi-nodejs:dynamic/<TYPE_MODULE>:<Type>`: the type tokens of this package's resources (also in URNs). */
export const TYPE_MODULE = "pulumi-acme-certs";

/**
 * During preview the engine sends values it does not know yet as this sentinel, at the position of the value
 * (a property, an array element, a nested field).
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN;
}

export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** Collects check failures; a check that finds any makes no request to anyone. */
export class Failures {
    readonly list: pulumi.dynamic.CheckFailure[] = [];

    add(property: string, reason: string): void {
        this.list.push({ property, reason });
    }
}

/**
 * A check's answer. The inputs are made JSON-clean: a value the program left out (undefined) must not reach the
 * host, which cannot marshal it and would fail with "Unexpected struct type." instead of showing the failures.
 */
export function checkResult(inputs: object, failures: Failures): pulumi.dynamic.CheckResult {
    return { inputs: jsonClean(inputs), failures: failures.list };
}

/**
 * A JSON-clean copy: the host's marshalling rejects `undefined`, Dates and Buffers ("Unexpected struct type."),
 * and a copy also keeps libraries from mutating what the engine gave us.
 */
export function jsonClean<T>(value: T): T {
    return JSON.parse(JSON.stringify(value));
}

/** The keys whose new value differs from the old one (an unknown new value counts as different). */
export function changedKeys<T extends object>(
    olds: Partial<T>,
    news: Partial<T>,
    keys: ReadonlyArray<keyof T>,
): string[] {
    return keys
        .filter((key) => containsUnknown(news[key]) || !sameValue(olds[key], news[key]))
        .map((key) => String(key));
}

function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A diff that updates in place (no replacement) when anything changed. */
export function updateDiff(changes: readonly string[]): pulumi.dynamic.DiffResult {
    return { changes: changes.length > 0, replaces: [], deleteBeforeReplace: false };
}

/** A diff that replaces when any of `replaces` changed, and updates in place for other changes. */
export function replaceDiff(replaces: readonly string[], updates: readonly string[] = []): pulumi.dynamic.DiffResult {
    // The engine replaces only when changes is DIFF_SOME *and* replaces is non-empty (notes §3).
    return { changes: replaces.length + updates.length > 0, replaces: [...replaces], deleteBeforeReplace: false };
}

/**
 * One line on the provider host's stdout, which the engine shows as an info diagnostic. The host gives providers
 * no URN, so lines name what they are about (the certificate's names). Never pass key material here.
 */
export function report(subject: string, message: string): void {
    console.log(`[pulumi-acme-certs] ${subject}: ${message}`);
}

/** Optional text input: absent, empty or not yet known in the program become null in checked inputs. */
export function optionalString(value: unknown): string | null {
    if (isUnknown(value)) return UNKNOWN;
    return typeof value === "string" && value.length > 0 ? value : null;
}
