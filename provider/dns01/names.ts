// DNS names as ACME identifiers and DNS-01 record names (RFC 8555 §7.1.3, §7.1.4, §8.4). Pure functions.
import { isIP } from "node:net";
import { domainToASCII } from "node:url";

/** Let's Encrypt's limit on names per certificate. */
export const MAX_NAMES_PER_CERTIFICATE = 100;
/** The label DNS-01 puts in front of the identifier to form the TXT record name (RFC 8555 §8.4). */
export const CHALLENGE_LABEL = "_acme-challenge";

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const WILDCARD_PREFIX = "*.";
const WILDCARD_RULE = "a wildcard must be the whole leftmost label, e.g. *.example.com";

/**
 * Normalises one name as users write it: lower case, IDN → punycode (A-labels), trailing dot removed. Returns a
 * problem sentence saying what to change when the result is not a valid identifier: empty, an IP address, a URL
 * or host:port, a label outside LDH or longer than 63, a name longer than 253, a wildcard that is not the whole
 * leftmost label, a single-label name.
 */
export function normalizeDnsName(input: string): { name: string } | { problem: string } {
    const quoted = JSON.stringify(input);
    const trimmed = input.trim();
    if (trimmed === "") return { problem: `${quoted} is empty: give a DNS name such as "example.com"` };
    if (isIP(trimmed) || isIP(trimmed.replace(/^\[(.*)\]$/, "$1"))) {
        return { problem: `${quoted} is an IP address; IP address identifiers are not supported: use a DNS name` };
    }
    if (/[:/]/.test(trimmed)) {
        const host = hostOfUrl(trimmed);
        const example = host ? JSON.stringify(host) : `"example.com"`;
        return { problem: `${quoted} is not a bare host name: leave out the scheme, port and path, e.g. ${example}` };
    }
    // domainToASCII also maps (UTS #46), but it rejects some plain ASCII names (a numeric last label reads as
    // IPv4), so only names that need it go through it and LDH validation below speaks for the rest.
    const ascii = /\P{ASCII}/u.test(trimmed) ? domainToASCII(trimmed) : trimmed.toLowerCase();
    if (ascii === "") {
        return { problem: `${quoted} is not a valid internationalised domain name: check its spelling` };
    }
    const name = withoutTrailingDot(ascii);
    const problem = identifierProblem(name, quoted);
    return problem ? { problem } : { name };
}

/** What is wrong with an ASCII, lower-case name without trailing dot, in a sentence about `quoted` (the input). */
function identifierProblem(name: string, quoted: string): string | undefined {
    if (name === "") return `${quoted} is empty: give a DNS name such as "example.com"`;
    if (name.length > MAX_NAME_LENGTH) {
        return `${quoted} is ${name.length} characters long: a DNS name may have at most ${MAX_NAME_LENGTH}`;
    }
    const labels = name.split(".");
    const wildcard = labels[0] === "*" && labels.length > 1;
    if (labels.some((label, index) => label.includes("*") && !(index === 0 && wildcard))) {
        return `${quoted}: ${WILDCARD_RULE}`;
    }
    const baseLabels = wildcard ? labels.slice(1) : labels;
    for (const label of baseLabels) {
        if (label === "") return `${quoted} has an empty label: remove the extra dot`;
        if (label.includes("_")) {
            return `${quoted} contains "_": underscores are not allowed in certificate names, use a hyphen or remove it`;
        }
        if (label.length > MAX_LABEL_LENGTH) {
            return `${quoted} has a label of ${label.length} characters: a label may have at most ${MAX_LABEL_LENGTH}`;
        }
        if (!LDH_LABEL.test(label)) {
            return `${quoted} has the label ${JSON.stringify(label)}: labels may only contain letters, digits and hyphens, and may not start or end with a hyphen`;
        }
    }
    if (baseLabels.length < 2) {
        return `${quoted} is a single-label name: public CAs reject those, give a fully qualified name such as "${name}.example.com"`;
    }
    return undefined;
}

/** The host of something URL-like ("https://example.com/x", "example.com:443"), if it has one. */
function hostOfUrl(text: string): string | undefined {
    try {
        return new URL(text.includes("://") ? text : `http://${text}`).hostname || undefined;
    } catch {
        return undefined;
    }
}

/**
 * Normalises a list; problems for each bad entry, for duplicates after normalisation (naming both spellings),
 * for an empty list and for more than MAX_NAMES_PER_CERTIFICATE. Order of first appearance is kept.
 */
export function normalizeDnsNames(inputs: readonly string[]): { names: string[]; problems: string[] } {
    if (!Array.isArray(inputs)) {
        return { names: [], problems: [`the names must be a list such as ["example.com", "*.example.com"]`] };
    }
    const names: string[] = [];
    const problems: string[] = [];
    const spellingOf = new Map<string, string>();
    let duplicates = 0;
    for (const [index, input] of inputs.entries()) {
        if (typeof input !== "string") {
            const type = input === null ? "null" : typeof input;
            problems.push(
                `name ${index + 1} is ${type}, not a string: give each name as a string such as "example.com"`,
            );
            continue;
        }
        const result = normalizeDnsName(input);
        if ("problem" in result) {
            problems.push(result.problem);
            continue;
        }
        const earlier = spellingOf.get(result.name);
        if (earlier === undefined) {
            spellingOf.set(result.name, input);
            names.push(result.name);
        } else {
            duplicates++;
            problems.push(
                `${JSON.stringify(earlier)} and ${JSON.stringify(input)} are the same name after normalisation (${result.name}): list it once`,
            );
        }
    }
    const count = inputs.length - duplicates;
    if (inputs.length === 0) problems.push(`no names given: list at least one, e.g. ["example.com"]`);
    if (count > MAX_NAMES_PER_CERTIFICATE) {
        problems.push(
            `${count} names given, but a certificate may hold at most ${MAX_NAMES_PER_CERTIFICATE}: split them across several certificates`,
        );
    }
    return { names, problems };
}

/** Whether a normalised name is a wildcard ("*.example.com"). */
export function isWildcard(name: string): boolean {
    return name.startsWith(WILDCARD_PREFIX);
}

/** The name an authorization is for: a wildcard's base name (RFC 8555 §7.1.3: "*.example.com" → "example.com"). */
export function authorizationName(name: string): string {
    return isWildcard(name) ? name.slice(WILDCARD_PREFIX.length) : name;
}

/** `_acme-challenge.<base name>`, without trailing dot; apex and wildcard share it. */
export function challengeRecordName(name: string): string {
    return `${CHALLENGE_LABEL}.${withoutTrailingDot(authorizationName(name))}`;
}

/**
 * The longest of `zones` that `name` is in or equal to, compared case-insensitively and ignoring trailing dots;
 * undefined if none. Returned as spelled in `zones`. "badexample.com" is not in "example.com".
 */
export function longestMatchingZone(name: string, zones: Iterable<string>): string | undefined {
    const bare = withoutTrailingDot(name).toLowerCase();
    let best: { zone: string; length: number } | undefined;
    for (const zone of zones) {
        const bareZone = withoutTrailingDot(zone).toLowerCase();
        if (bareZone === "" || (bare !== bareZone && !bare.endsWith(`.${bareZone}`))) continue;
        if (!best || bareZone.length > best.length) best = { zone, length: bareZone.length };
    }
    return best?.zone;
}

/** `name` without one trailing dot: "example.com." → "example.com". */
export function withoutTrailingDot(name: string): string {
    return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** One TXT record set a DNS-01 solver must publish. */
export interface DnsChallengeRecord {
    /** `_acme-challenge.<name>`, no trailing dot. */
    recordName: string;
    /** Every TXT value expected there, in order of first appearance, de-duplicated. */
    values: string[];
}

/** Groups per-identifier TXT values by record name: apex and wildcard end up in one record with two values. */
export function groupDnsChallenges(entries: ReadonlyArray<{ name: string; value: string }>): DnsChallengeRecord[] {
    const valuesByRecord = new Map<string, Set<string>>();
    for (const { name, value } of entries) {
        const recordName = challengeRecordName(name);
        const values = valuesByRecord.get(recordName) ?? new Set<string>();
        values.add(value);
        valuesByRecord.set(recordName, values);
    }
    return [...valuesByRecord].map(([recordName, values]) => ({ recordName, values: [...values] }));
}
