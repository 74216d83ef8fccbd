// Certificate: answers an Order's challenges once their answers are published, finalizes it with the CSR and
// downloads the certificate. Renewal is decided in diff, from the stored validity alone.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { type AcmeAccountClient, type AcmeOrder, accountClient, isInvalidOrderError } from "../acme/client";
import { type AcmeProblem, type AcmeProblemError, isAcmeProblem } from "../acme/errors";
import { isPendingAuthorization, isValidAuthorization } from "../acme/status";
import { describeCertificate, splitPemChain } from "../crypto/certificate";
import { inspectCsr } from "../crypto/csr";
import { authorizationName, challengeRecordName, type DnsChallengeRecord } from "../dns01/names";
import { PropagationTimeoutError, waitForTxtRecords } from "../dns01/propagation";
import { renewalDecision, renewAt as renewalTime, renewBeforeProblem, type Validity } from "../renewal/policy";
import { type AccountFields, type AcmeAccountArgs, accountInputs, accountRef, checkAccountFields } from "./account";
import {
    changedKeys,
    checkResult,
    Failures,
    isUnknown,
    jsonClean,
    optionalString,
    report,
    TYPE_MODULE,
    updateDiff,
} from "./dynamic";
import {
    type ChallengeType,
    checkChallengeType,
    checkCsr,
    checkRenewBefore,
    namesDifferProblem,
    type OrderAuthorization,
    type OrderReference,
    renewBeforeSeconds,
    sameNames,
} from "./order";

export interface PropagationArgs {
    /**
     * Check these nameservers (`host` or `host:port`) instead of the authoritative nameservers of each record's
     * zone (found by SOA/NS lookup): for split-horizon DNS and tests.
     */
    nameservers?: string[];
    /** Give up waiting for the TXT records after this long. @default 180 */
    timeoutSeconds?: number;
    /** Between checks. @default 2 */
    intervalSeconds?: number;
    /** Do not wait at all: answer the challenges at once. @default false */
    skip?: boolean;
}

export interface Propagation {
    nameservers: string[] | null;
    timeoutSeconds: number;
    intervalSeconds: number;
    skip: boolean;
}

const PROPAGATION_DEFAULTS: Propagation = { nameservers: null, timeoutSeconds: 180, intervalSeconds: 2, skip: false };
const NAMESERVER = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+|[0-9a-fA-F:]+)(:\d{1,5})?$/;

export interface CertificateArgs {
    /** The account that placed the order: a Registration. */
    account: AcmeAccountArgs;
    /** The Order to finalize. */
    order: OrderReference;
    /** The same CSR the Order was placed for. */
    csrPem: pulumi.Input<string>;
    /** How to wait for DNS-01 records before answering. */
    propagation?: pulumi.Input<PropagationArgs>;
    /**
     * How long before expiry to renew, e.g. "30d" or "720h"; give the Order the same value.
     * @default a third of the lifetime (half for certificates of 10 days or less)
     */
    renewBefore?: pulumi.Input<string>;
    /** Revoke the certificate when this resource is deleted (never on renewal). @default false */
    revokeOnDestroy?: pulumi.Input<boolean>;
    /** Prefer the alternate chain whose issuers include this common name (e.g. "ISRG Root X1"). */
    preferredChain?: pulumi.Input<string>;
}

export interface CertificateInputs extends AccountFields {
    orderUrl: string;
    challengeType: ChallengeType;
    /** The order's names. */
    dnsNames: string[];
    authorizations: OrderAuthorization[];
    dnsChallenges: DnsChallengeRecord[];
    csrPem: string;
    propagation: Propagation;
    renewBefore: string | null;
    revokeOnDestroy: boolean;
    preferredChain: string | null;
}

export interface CertificateOutputs extends CertificateInputs {
    /** The leaf certificate, PEM. */
    certificatePem: string;
    /** The intermediates, PEM, leaf's issuer first. */
    issuerPem: string;
    /** Leaf and intermediates: what a TLS server presents. */
    fullChainPem: string;
    notBefore: string;
    notAfter: string;
    /** When the renewal is due (ISO 8601). */
    renewAt: string;
    /** Lower-case hex. */
    serialNumber: string;
    issuerCommonName: string | null;
    certificateUrl: string;
}

export async function check(
    _olds: unknown,
    news: Partial<Record<keyof CertificateInputs, unknown>>,
): Promise<pulumi.dynamic.CheckResult> {
    const failures = new Failures();
    const account = checkAccountFields(news, failures);
    const challengeType = checkChallengeType(news.challengeType, "order", failures);
    if (!isUnknown(news.orderUrl) && (typeof news.orderUrl !== "string" || news.orderUrl.length === 0)) {
        failures.add("order", "order is required: pass the Order this certificate finalizes");
    }
    const csrNames = await checkCsr(news.csrPem, challengeType, failures);
    const orderNames = news.dnsNames;
    if (
        csrNames !== null &&
        Array.isArray(orderNames) &&
        !orderNames.some(isUnknown) &&
        !sameNames(csrNames, orderNames)
    ) {
        failures.add("csrPem", namesDifferProblem(csrNames, orderNames));
    }
    const propagation = checkPropagation(news.propagation, failures);
    const renewBefore = optionalString(news.renewBefore);
    checkRenewBefore(renewBefore, failures);
    const revokeOnDestroy = news.revokeOnDestroy ?? false;
    if (!isUnknown(revokeOnDestroy) && typeof revokeOnDestroy !== "boolean") {
        failures.add("revokeOnDestroy", "revokeOnDestroy must be true or false");
    }
    const inputs = {
        ...account,
        orderUrl: news.orderUrl,
        challengeType,
        dnsNames: orderNames,
        authorizations: news.authorizations ?? [],
        dnsChallenges: news.dnsChallenges ?? [],
        csrPem: news.csrPem,
        propagation,
        renewBefore,
        revokeOnDestroy,
        preferredChain: optionalString(news.preferredChain),
    };
    return checkResult(inputs, failures);
}

function checkPropagation(value: unknown, failures: Failures): unknown {
    if (value === undefined || value === null) return { ...PROPAGATION_DEFAULTS };
    if (isUnknown(value) || typeof value !== "object") {
        if (!isUnknown(value))
            failures.add(
                "propagation",
                "propagation must be { nameservers?, timeoutSeconds?, intervalSeconds?, skip? }",
            );
        return value;
    }
    const given = value as Partial<Record<keyof Propagation, unknown>>;
    const propagation = {
        nameservers: given.nameservers ?? null,
        timeoutSeconds: given.timeoutSeconds ?? PROPAGATION_DEFAULTS.timeoutSeconds,
        intervalSeconds: given.intervalSeconds ?? PROPAGATION_DEFAULTS.intervalSeconds,
        skip: given.skip ?? false,
    };
    for (const key of ["timeoutSeconds", "intervalSeconds"] as const) {
        const seconds = propagation[key];
        if (!isUnknown(seconds) && (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0)) {
            failures.add(
                "propagation",
                `propagation.${key} must be a positive number of seconds, e.g. ${PROPAGATION_DEFAULTS[key]}`,
            );
        }
    }
    const { timeoutSeconds, intervalSeconds } = propagation;
    if (typeof timeoutSeconds === "number" && typeof intervalSeconds === "number" && intervalSeconds > timeoutSeconds) {
        failures.add("propagation", "propagation.intervalSeconds must not exceed propagation.timeoutSeconds");
    }
    const { nameservers } = propagation;
    if (nameservers !== null && !isUnknown(nameservers)) {
        if (!Array.isArray(nameservers) || nameservers.length === 0) {
            failures.add(
                "propagation",
                'propagation.nameservers must be a non-empty list like ["ns1.example.com", "192.0.2.53:53"]',
            );
        } else {
            for (const server of nameservers.filter((s) => !isUnknown(s))) {
                if (typeof server !== "string" || !NAMESERVER.test(server)) {
                    failures.add(
                        "propagation",
                        `propagation.nameservers: ${JSON.stringify(server)} is not host or host:port`,
                    );
                }
            }
        }
    }
    if (!isUnknown(propagation.skip) && typeof propagation.skip !== "boolean") {
        failures.add("propagation", "propagation.skip must be true or false");
    }
    return propagation;
}

export async function diff(
    _id: string,
    olds: CertificateOutputs,
    news: CertificateInputs,
): Promise<pulumi.dynamic.DiffResult> {
    const subject = olds.dnsNames.join(", ");
    // First, so that a renewBefore as long as the certificate fails the preview even while its Order changes too.
    const renewal = renewalOf(olds, news.renewBefore);
    if (changedKeys(olds, news, ["orderUrl"]).length > 0) {
        report(subject, "will be issued from its Order's new order");
        return updateDiff(["orderUrl"]);
    }
    const changes = changedKeys(olds, news, [
        "renewBefore",
        "revokeOnDestroy",
        "propagation",
        "preferredChain",
        "caCertificatesPem",
        "accountKeyPem",
        "csrPem",
    ]);
    if (renewal?.due) {
        report(subject, `${renewal.message}; ${RENEWS_WITH_ITS_ORDER}`);
        changes.push("renewal");
    } else if (renewal && changes.length > 0) {
        // Only with a change: a preview of a stack of unchanged certificates would print a line for each.
        report(subject, renewal.message);
    }
    return updateDiff(changes);
}

/** True whichever command runs the diff (preview, up, or the refresh half of `up --refresh`). */
const RENEWS_WITH_ITS_ORDER =
    "it is reissued from the new order its Order places once it knows the certificate is due, which a refresh " +
    "tells it: `pulumi up --refresh` renews the order, its challenge records and this certificate in one run";

const REFRESH_NEEDED =
    "run `pulumi up --refresh` (the refresh shows the Order its certificate, and the Order, its challenge records " +
    "and this certificate then renew together)";

/** The renewal decision under the (new) renewBefore, or null while that value is unknown (preview). */
function renewalOf(certificate: CertificateOutputs, renewBefore: string | null) {
    if (isUnknown(renewBefore)) return null;
    const validity: Validity = { notBefore: certificate.notBefore, notAfter: certificate.notAfter };
    const seconds = renewBeforeSeconds(renewBefore);
    // Fails the preview: a renewBefore as long as the certificate would renew it on every run.
    const problem = seconds === null ? undefined : renewBeforeProblem(seconds, validity);
    if (problem) throw new Error(`${certificate.dnsNames.join(", ")}: ${problem}`);
    return renewalDecision(validity, { renewBeforeSeconds: seconds, now: Date.now() });
}

export async function create(inputs: CertificateInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: crypto.randomUUID(), outs: await issue(inputs) };
}

export async function update(
    _id: string,
    olds: CertificateOutputs,
    news: CertificateInputs,
): Promise<pulumi.dynamic.UpdateResult> {
    if (changedKeys(olds, news, ["orderUrl"]).length > 0) return { outs: await issue(news) };
    const renewal = renewalOf(olds, news.renewBefore);
    if (renewal?.due) {
        // The order is spent, and its challenge records hold old values: renewing now could only fail half-way.
        report(olds.dnsNames.join(", "), `not renewed in this run: ${REFRESH_NEEDED}`);
    }
    const issued = issuedFieldsOf(olds);
    return {
        outs: jsonClean({ ...news, ...issued, renewAt: renewalTime(issued, renewBeforeSeconds(news.renewBefore)) }),
    };
}

/** What issuing produced, as opposed to what the inputs asked for: kept as they are by a state-only update. */
export const ISSUED_FIELDS = [
    "certificatePem",
    "issuerPem",
    "fullChainPem",
    "notBefore",
    "notAfter",
    "renewAt",
    "serialNumber",
    "issuerCommonName",
    "certificateUrl",
] as const satisfies ReadonlyArray<keyof CertificateOutputs>;

function issuedFieldsOf(certificate: CertificateOutputs): Pick<CertificateOutputs, (typeof ISSUED_FIELDS)[number]> {
    return Object.fromEntries(ISSUED_FIELDS.map((field) => [field, certificate[field]])) as Pick<
        CertificateOutputs,
        (typeof ISSUED_FIELDS)[number]
    >;
}

/** Takes the order from wherever it is (a crash may have left it anywhere) to a downloaded certificate. */
async function issue(inputs: CertificateInputs): Promise<CertificateOutputs> {
    const subject = inputs.dnsNames.join(", ");
    const progress = (line: string) => report(subject, line);
    const client = accountClient(accountRef(inputs));
    let order = await client.getOrder(inputs.orderUrl);
    if (order.status === "invalid") {
        throw new Error(
            `Unable to issue a certificate for ${subject}: its order ${order.url} is invalid. ${NEW_ORDER_NEEDED}`,
        );
    }
    if (order.status === "pending") order = await validate(client, inputs, order, progress);
    if (order.status === "ready") order = await client.finalizeOrder(order, inputs.csrPem);
    if (order.status !== "valid") order = await client.waitForOrder(order.url, ["valid"], { onProgress: progress });
    if (order.certificate === null)
        throw new Error(`Unable to issue a certificate for ${subject}: the CA's valid order has no certificate URL`);
    const chainPem = await client.downloadCertificate(order.certificate, inputs.preferredChain);
    return outputsOf(inputs, chainPem, order.certificate);
}

const NEW_ORDER_NEEDED = "Run `pulumi up --refresh` to place a new order (with new challenge values).";

/** Waits for the published answers, answers every pending challenge, and waits for the order to be ready. */
async function validate(
    client: AcmeAccountClient,
    inputs: CertificateInputs,
    order: AcmeOrder,
    progress: (line: string) => void,
): Promise<AcmeOrder> {
    const subject = inputs.dnsNames.join(", ");
    const pending = inputs.authorizations.filter(
        (authz) => isPendingAuthorization(authz.status) && authz.challengeUrl !== null,
    );
    if (inputs.challengeType === "dns-01" && !inputs.propagation.skip) {
        const pendingRecords = new Set(pending.map((authz) => `_acme-challenge.${authz.name.replace(/^\*\./, "")}`));
        const records = inputs.dnsChallenges.filter((record) => pendingRecords.has(record.recordName));
        try {
            await waitForTxtRecords(records, {
                ...(inputs.propagation.nameservers ? { nameservers: inputs.propagation.nameservers } : {}),
                timeoutSeconds: inputs.propagation.timeoutSeconds,
                intervalSeconds: inputs.propagation.intervalSeconds,
                onProgress: progress,
            });
        } catch (error) {
            if (!(error instanceof PropagationTimeoutError)) throw error;
            // Nothing was answered: the order stays usable, so fixing the records and running again is enough.
            const until = order.expires ? ` until ${order.expires}` : "";
            throw new Error(
                `Unable to issue a certificate for ${subject}: ${error.message} The order stays open${until}: ` +
                    "fix the records and run `pulumi up` again.",
            );
        }
    }
    await Promise.all(pending.map((authz) => answer(client, authz)));
    try {
        return await client.waitForOrder(order.url, ["ready", "valid"], { onProgress: progress });
    } catch (error) {
        if (!isAcmeProblem(error)) throw error;
        if (!isInvalidOrderError(error)) {
            // The CA did not answer (usefully): that says nothing about the order, which is kept as it is.
            throw new Error(
                `Unable to issue a certificate for ${subject}: ${error.message}. The order is kept: ` +
                    "run `pulumi up` again once the CA answers.",
                { cause: error },
            );
        }
        await deactivatePending(client, inputs.authorizations);
        const expected = expectedAnswers(client, inputs, (error as AcmeProblemError).problem);
        throw new Error(
            `Unable to issue a certificate for ${subject}: ${error.message}${expected}. ${NEW_ORDER_NEEDED}`,
        );
    }
}

/** What the CA should have found for each name it refused: the answer the Order published for it. */
function expectedAnswers(client: AcmeAccountClient, inputs: CertificateInputs, problem: AcmeProblem): string {
    const refused = new Set((problem.subproblems ?? []).map((subproblem) => subproblem.identifier?.value));
    const expectations = inputs.authorizations
        .filter((authz) => refused.has(authz.name) && authz.token !== null)
        .map((authz) => {
            if (inputs.challengeType === "http-01") {
                const url = `http://${authorizationName(authz.name)}/.well-known/acme-challenge/${authz.token}`;
                return `${authz.name}: expected ${url} to answer ${JSON.stringify(client.keyAuthorization(authz.token!))}`;
            }
            const recordName = challengeRecordName(authz.name);
            const values = inputs.dnsChallenges.find((record) => record.recordName === recordName)?.values ?? [];
            return `${authz.name}: expected TXT ${recordName} to hold ${JSON.stringify(values)}`;
        });
    return expectations.map((expectation) => `; ${expectation}`).join("");
}

/** Answers one challenge; one answered before (by a run that crashed) is fine as long as it was not refused. */
async function answer(client: AcmeAccountClient, authz: OrderAuthorization): Promise<void> {
    try {
        await client.answerChallenge(authz.challengeUrl!);
    } catch (error) {
        const current = await client.getAuthorization(authz.url);
        if (isValidAuthorization(current.status) || current.challenges.some((c) => c.status === "processing")) return;
        throw error;
    }
}

async function deactivatePending(
    client: AcmeAccountClient,
    authorizations: readonly OrderAuthorization[],
): Promise<void> {
    await Promise.allSettled(
        authorizations
            .filter((authz) => isPendingAuthorization(authz.status))
            .map((authz) => client.deactivateAuthorization(authz.url)),
    );
}

async function outputsOf(
    inputs: CertificateInputs,
    chainPem: string,
    certificateUrl: string,
): Promise<CertificateOutputs> {
    const [leafPem, ...issuerPems] = splitPemChain(chainPem);
    if (leafPem === undefined)
        throw new Error(`Unable to read the certificate for ${inputs.dnsNames.join(", ")}: the CA sent no PEM`);
    const leaf = describeCertificate(leafPem);
    const csr = await inspectCsr(inputs.csrPem);
    if ("csr" in csr && csr.csr.publicKeyFingerprintSha256 !== leaf.publicKeyFingerprintSha256) {
        throw new Error(`The CA issued a certificate for ${inputs.dnsNames.join(", ")} whose key is not the CSR's`);
    }
    const validity = { notBefore: leaf.notBefore, notAfter: leaf.notAfter };
    let seconds = renewBeforeSeconds(inputs.renewBefore);
    const problem = seconds === null ? undefined : renewBeforeProblem(seconds, validity);
    if (problem) {
        // The certificate is issued and kept; until renewBefore is fixed the default policy applies.
        report(inputs.dnsNames.join(", "), `${problem} (the default renewal point is used until then)`);
        seconds = null;
    }
    return jsonClean({
        ...inputs,
        certificatePem: leafPem,
        issuerPem: issuerPems.join(""),
        fullChainPem: [leafPem, ...issuerPems].join(""),
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
        renewAt: renewalTime(validity, seconds),
        serialNumber: leaf.serialNumber,
        issuerCommonName: leaf.issuerCommonName,
        certificateUrl,
    });
}

export async function read(id: string, props: CertificateOutputs): Promise<pulumi.dynamic.ReadResult> {
    // The certificate is immutable: what is stored is the truth, and refresh must not report false drift.
    return { id, props };
}

async function deleteCertificate(_id: string, props: CertificateOutputs): Promise<void> {
    if (!props.revokeOnDestroy) return;
    await accountClient(accountRef(props)).revokeCertificate(props.certificatePem);
    report(props.dnsNames.join(", "), `certificate ${props.serialNumber} revoked`);
}

export { deleteCertificate as delete };

/** This module's exports are the provider: Pulumi serializes them as a require() of this file. */
const provider: pulumi.dynamic.ResourceProvider = module.exports;

/**
 * The certificate an Order leads to. Create it after the Order's challenge answers are published (`dependsOn`
 * the records): it waits until every expected TXT value is visible at the zones' authoritative nameservers, answers
 * the challenges, finalizes the order with the CSR and downloads the chain.
 *
 * Renewal is decided in `diff`, from the stored validity alone (no network), so `pulumi preview` shows it and
 * `pulumi refresh` reports it as drift once due. The certificate is renewed in place, from the new order its Order
 * places when due. It is never revoked on renewal; `revokeOnDestroy` revokes it only when the resource is deleted.
 */
export class Certificate extends pulumi.dynamic.Resource {
    declare readonly certificatePem: pulumi.Output<string>;
    declare readonly issuerPem: pulumi.Output<string>;
    declare readonly fullChainPem: pulumi.Output<string>;
    declare readonly notBefore: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    declare readonly renewAt: pulumi.Output<string>;
    declare readonly serialNumber: pulumi.Output<string>;
    declare readonly dnsNames: pulumi.Output<string[]>;
    declare readonly issuerCommonName: pulumi.Output<string | null>;
    declare readonly certificateUrl: pulumi.Output<string>;

    constructor(name: string, args: CertificateArgs, opts?: pulumi.CustomResourceOptions) {
        const { account, order, ...rest } = args;
        super(
            provider,
            name,
            {
                certificatePem: undefined,
                issuerPem: undefined,
                fullChainPem: undefined,
                notBefore: undefined,
                notAfter: undefined,
                renewAt: undefined,
                serialNumber: undefined,
                issuerCommonName: undefined,
                certificateUrl: undefined,
                ...rest,
                ...accountInputs(account),
                orderUrl: order.orderUrl,
                challengeType: order.challengeType,
                dnsNames: order.dnsNames,
                authorizations: order.authorizations,
                dnsChallenges: order.dnsChallenges,
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["accountKeyPem"] }),
            TYPE_MODULE,
            "Certificate",
        );
    }
}
