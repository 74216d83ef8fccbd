// When a certificate is renewed: a pure function of its validity, the user's renewBefore and the time. Decided
// in `diff`, so it runs on every preview and refresh and must never touch the network.
import { formatDuration } from "./duration";

export interface Validity {
    /** ISO 8601 */
    notBefore: string;
    notAfter: string;
}

/**
 * Certificates at or below this lifetime renew at half their life instead of the last third, as lego, certbot 4
 * and Terraform's ACME provider do for short-lived certificates.
 */
const SHORT_LIFETIME_SECONDS = 10 * 86400;

export function lifetimeSeconds(validity: Validity): number {
    return (Date.parse(validity.notAfter) - Date.parse(validity.notBefore)) / 1000;
}

/** How long before expiry to renew when the user did not say: a third of the lifetime, half for short-lived ones. */
export function defaultRenewBeforeSeconds(lifetime: number): number {
    return lifetime <= SHORT_LIFETIME_SECONDS ? lifetime / 2 : lifetime / 3;
}

/** When to renew: `renewBefore` (seconds) before notAfter, or by the default policy. ISO 8601. */
export function renewAt(validity: Validity, renewBeforeSeconds?: number | null): string {
    const before = renewBeforeSeconds ?? defaultRenewBeforeSeconds(lifetimeSeconds(validity));
    return new Date(Date.parse(validity.notAfter) - before * 1000).toISOString();
}

/** A renewBefore that would renew on every run ("validity <= renewBefore"), as a sentence saying what to change. */
export function renewBeforeProblem(renewBeforeSeconds: number, validity: Validity): string | undefined {
    const lifetime = lifetimeSeconds(validity);
    if (renewBeforeSeconds < lifetime) return undefined;
    return (
        `renewBefore ${formatDuration(renewBeforeSeconds)} is not shorter than the certificate's lifetime ` +
        `(${formatDuration(lifetime)}), so it would renew on every run: use a value below ${formatDuration(lifetime)}, ` +
        `e.g. "${formatDuration(defaultRenewBeforeSeconds(lifetime))}", or leave renewBefore unset`
    );
}

export type RenewalReason = "NotDue" | "Renewing" | "Expired";

export interface RenewalDecision {
    due: boolean;
    reason: RenewalReason;
    /** ISO 8601 */
    renewAt: string;
    /** Why, in one sentence, for the diagnostics of preview and refresh. */
    message: string;
}

export function renewalDecision(
    validity: Validity,
    { renewBeforeSeconds, now }: { renewBeforeSeconds?: number | null; now: number },
): RenewalDecision {
    const at = renewAt(validity, renewBeforeSeconds);
    if (now >= Date.parse(validity.notAfter)) {
        return { due: true, reason: "Expired", renewAt: at, message: `expired at ${validity.notAfter}: renewing` };
    }
    if (now >= Date.parse(at)) {
        return {
            due: true,
            reason: "Renewing",
            renewAt: at,
            message: `expires at ${validity.notAfter}; renewal was due at ${at}: renewing`,
        };
    }
    return { due: false, reason: "NotDue", renewAt: at, message: `renewal due at ${at}` };
}
