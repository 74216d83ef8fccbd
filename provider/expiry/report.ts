// The expiry report: which of this library's certificates in a `pulumi stack export` are fine, due for renewal or
// expired. Let's Encrypt sends no expiry e-mails any more and renewal only happens when someone runs `pulumi up`,
// so pipelines run this to fail before a certificate lapses. The export is sensitive: this module reads a fixed
// set of plain outputs of Certificate resources and nothing else, and never echoes the document in a message.
import { parseDuration } from "../renewal/duration";
import { TYPE_MODULE } from "../resources/dynamic";

/** The type of this library's Certificate resource in Pulumi state. */
/** The type token of this package's Certificate resource (dynamic.ts imports @pulumi/pulumi for types only). */
const CERTIFICATE_TYPE = `pulumi-nodejs:dynamic/${TYPE_MODULE}:Certificate`;

/** The only stack export version this report reads; the Pulumi CLI has written it since 3.0. */
const EXPORT_VERSION = 3;

/** Pulumi marks a secret in state with this key and value; the rest of the object is its ciphertext or plaintext. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

const DAY_MS = 86400_000;

/** Where a certificate stands at the report's `now`; "unknown" when its state lacks a readable plain field. */
export type ExpiryStatus = "ok" | "renewal due" | "expired" | "unknown";

/** One Certificate resource of the stack. Fields that could not be read are null (and `status` is "unknown"). */
export interface CertificateStatus {
    urn: string;
    /** The resource name: the last segment of the URN. */
    name: string;
    /** Empty when unreadable. */
    dnsNames: string[];
    /** Lower-case hex. */
    serialNumber: string | null;
    /** ISO 8601, as stored in state. */
    notBefore: string | null;
    notAfter: string | null;
    renewAt: string | null;
    /** Days from now to notAfter, one decimal; negative once expired. */
    daysLeft: number | null;
    status: ExpiryStatus;
    /** Why the status is "unknown"; present only then. */
    reason?: string;
}

export interface ExpiryReport {
    certificates: CertificateStatus[];
    /**
     * Some certificate is expired or due, or will be due or expire within the window. Certificates whose status is
     * "unknown" do not count: the caller decides what an unreadable certificate means for it.
     */
    dueWithin: boolean;
}

export interface ExpiryReportOptions {
    /** The time to report at; defaults to the clock. */
    now?: Date | number;
    /** The look-ahead window: a duration such as "21d", or seconds. Defaults to 0 (due now). */
    within?: string | number;
}

/**
 * Reports the expiry of every Certificate of this library in `stackExport`, the parsed JSON of
 * `pulumi stack export` (with or without `--show-secrets`). Resources pending deletion or replacement are skipped.
 * Throws when the document is not a stack export or an option is invalid; the message never quotes the document.
 */
export function expiryReport(stackExport: unknown, options: ExpiryReportOptions = {}): ExpiryReport {
    const now = timeOf(options.now);
    const horizon = now + windowSeconds(options.within) * 1000;
    const certificates = liveResources(stackExport)
        .filter((resource) => resource.type === CERTIFICATE_TYPE)
        .map((resource) => certificateStatus(resource, now));
    const dueWithin = certificates.some(
        ({ status, renewAt, notAfter }) =>
            status !== "unknown" && Math.min(Date.parse(renewAt!), Date.parse(notAfter!)) <= horizon,
    );
    return { certificates, dueWithin };
}

/** The resource name in a URN `urn:pulumi:STACK::PROJECT::TYPE::NAME` (a name may itself contain "::"). */
export function resourceName(urn: string): string {
    const segments = urn.split("::");
    return segments.length >= 4 ? segments.slice(3).join("::") : urn;
}

function timeOf(now: Date | number | undefined): number {
    const time = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
    if (!Number.isFinite(time)) throw new Error("now is not a valid time: give a Date or milliseconds since 1970");
    return time;
}

function windowSeconds(within: string | number | undefined): number {
    if (within === undefined) return 0;
    if (typeof within === "number") {
        if (Number.isFinite(within) && within >= 0) return within;
        throw new Error(`within ${within} is not a number of seconds: give 0 or more, or a duration such as "21d"`);
    }
    const parsed = parseDuration(within);
    if ("problem" in parsed) throw new Error(`within ${parsed.problem}`);
    return parsed.seconds;
}

interface StateResource {
    urn: string;
    type: string;
    outputs?: unknown;
    delete?: unknown;
    pendingReplacement?: unknown;
}

/** The resources of the export that exist now, after checking that the document is a stack export at all. */
function liveResources(stackExport: unknown): StateResource[] {
    const notAnExport = (why: string) => new Error(`not a \`pulumi stack export\` document: ${why}`);
    if (!isRecord(stackExport)) throw notAnExport(`expected a JSON object, found ${kindOf(stackExport)}`);
    const { version, deployment } = stackExport;
    if (typeof version !== "number" || !isRecord(deployment)) {
        throw notAnExport("expected a `version` number and a `deployment` object at the top level");
    }
    if (version !== EXPORT_VERSION) {
        throw new Error(
            `the stack export is version ${version}, and this report reads version ${EXPORT_VERSION}: ` +
                "export with Pulumi CLI 3.x, or upgrade pulumi-acme-certs if your CLI is newer",
        );
    }
    // A stack that was never deployed has no `resources` at all.
    const resources = deployment.resources ?? [];
    if (!Array.isArray(resources)) throw notAnExport(`\`deployment.resources\` is ${kindOf(resources)}, not a list`);
    resources.forEach((resource, index) => {
        if (!isRecord(resource) || typeof resource.urn !== "string" || typeof resource.type !== "string") {
            throw notAnExport(`\`deployment.resources[${index}]\` has no \`urn\` and \`type\``);
        }
    });
    // `delete` marks the old copy of a replaced resource, `pendingReplacement` one already deleted for its
    // replacement: neither is what the stack serves. Pending operations live outside `resources`.
    return (resources as StateResource[]).filter(
        (resource) => resource.delete !== true && resource.pendingReplacement !== true,
    );
}

function certificateStatus(resource: StateResource, now: number): CertificateStatus {
    const identity = { urn: resource.urn, name: resourceName(resource.urn) };
    if (!isRecord(resource.outputs)) {
        const unread = { dnsNames: [], serialNumber: null, notBefore: null, notAfter: null, renewAt: null };
        return { ...identity, ...unread, daysLeft: null, status: "unknown", reason: "it has no outputs in state" };
    }
    const outputs = resource.outputs;
    const problems: string[] = [];
    const dnsNames = plainOutput(outputs, "dnsNames", asStringList, "a list of names", problems) ?? [];
    const serialNumber = plainOutput(outputs, "serialNumber", asHex, "hexadecimal", problems);
    const notBefore = plainOutput(outputs, "notBefore", asTime, "an ISO 8601 time", problems);
    const notAfter = plainOutput(outputs, "notAfter", asTime, "an ISO 8601 time", problems);
    const renewAt = plainOutput(outputs, "renewAt", asTime, "an ISO 8601 time", problems);
    const fields = { ...identity, dnsNames, serialNumber, notBefore, notAfter, renewAt };
    if (problems.length > 0 || notAfter === null || renewAt === null) {
        return { ...fields, daysLeft: null, status: "unknown", reason: problems.join("; ") };
    }
    const expiry = Date.parse(notAfter);
    // `+ 0` turns the -0 of a certificate that has just expired into 0
    const daysLeft = Math.round(((expiry - now) / DAY_MS) * 10) / 10 + 0;
    const status = now >= expiry ? "expired" : now >= Date.parse(renewAt) ? "renewal due" : "ok";
    return { ...fields, daysLeft, status };
}

/**
 * A plain output, parsed; null (with the problem added to `problems`) when it is missing, secret or malformed.
 * Problems never quote the value.
 */
function plainOutput<T>(
    outputs: Record<string, unknown>,
    field: string,
    parse: (value: unknown) => T | undefined,
    expectation: string,
    problems: string[],
): T | null {
    const value = outputs[field];
    const missing = value === undefined || value === null;
    const parsed = missing || isSecret(value) ? undefined : parse(value);
    if (parsed !== undefined) return parsed;
    problems.push(
        missing
            ? `output \`${field}\` is missing`
            : isSecret(value)
              ? `output \`${field}\` is a secret in state and this report reads no secrets: make it a plain output`
              : `output \`${field}\` is not ${expectation}`,
    );
    return null;
}

function isSecret(value: unknown): boolean {
    return isRecord(value) && value[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

function asStringList(value: unknown): string[] | undefined {
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? [...value] : undefined;
}

function asHex(value: unknown): string | undefined {
    return typeof value === "string" && /^[0-9a-f]+$/i.test(value) ? value.toLowerCase() : undefined;
}

function asTime(value: unknown): string | undefined {
    return typeof value === "string" && Number.isFinite(Date.parse(value)) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON kind of a value, for messages that must not show the value itself. */
function kindOf(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
