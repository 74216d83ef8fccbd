// CertificateRequest: a PKCS#10 CSR for a set of DNS names, signed by a PrivateKey. Pure: no CA is involved.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { createCsr } from "../crypto/csr";
import { inspectPrivateKey, publicKeyFingerprint } from "../crypto/keys";
import { normalizeDnsName, normalizeDnsNames } from "../dns01/names";
import { changedKeys, checkResult, containsUnknown, Failures, isUnknown, replaceDiff, TYPE_MODULE } from "./dynamic";

/** X.520's upper bound for a common name; longer names can only be in subjectAltName. */
const MAX_COMMON_NAME_LENGTH = 64;

export interface CertificateRequestArgs {
    /** The certificate's private key, e.g. `key.privateKeyPem` of a PrivateKey. */
    privateKeyPem: pulumi.Input<string>;
    /**
     * The names the certificate is for. Written as users write them: upper case, a trailing dot and IDNs
     * (Bücher.example) are accepted and normalised; a wildcard is `*.example.com`. At most 100.
     */
    dnsNames: pulumi.Input<pulumi.Input<string>[]>;
    /** @default the first name, when it fits in a common name (64 characters) */
    commonName?: pulumi.Input<string>;
}

export interface CertificateRequestInputs {
    privateKeyPem: string;
    /** Normalised: lower case, A-labels, no trailing dot; order kept. */
    dnsNames: string[];
    commonName: string | null;
}

export interface CertificateRequestOutputs {
    csrPem: string;
    dnsNames: string[];
    commonName: string | null;
    /** Of the key that signed the CSR. */
    publicKeyFingerprintSha256: string;
}

export async function check(
    _olds: unknown,
    news: Partial<Record<keyof CertificateRequestInputs, unknown>>,
): Promise<pulumi.dynamic.CheckResult> {
    const failures = new Failures();
    const privateKeyPem = news.privateKeyPem;
    if (!isUnknown(privateKeyPem)) {
        if (typeof privateKeyPem !== "string" || privateKeyPem.length === 0) {
            failures.add("privateKeyPem", "privateKeyPem is required: pass the privateKeyPem output of a PrivateKey");
        } else {
            const inspected = inspectPrivateKey(privateKeyPem);
            if ("problem" in inspected) failures.add("privateKeyPem", inspected.problem);
        }
    }

    let dnsNames: unknown = news.dnsNames;
    if (!containsUnknown(dnsNames)) {
        if (!Array.isArray(dnsNames)) {
            failures.add("dnsNames", 'dnsNames must be a list of names, e.g. ["example.com", "*.example.com"]');
        } else {
            const normalized = normalizeDnsNames(dnsNames);
            for (const problem of normalized.problems) failures.add("dnsNames", problem);
            dnsNames = normalized.names;
        }
    }

    const commonName = checkCommonName(news.commonName ?? null, dnsNames, failures);
    return checkResult({ privateKeyPem, dnsNames, commonName }, failures);
}

/** The normalised common name: the one given (which must be among the names), or by default the first name. */
function checkCommonName(value: unknown, dnsNames: unknown, failures: Failures): unknown {
    const namesKnown = Array.isArray(dnsNames) && !containsUnknown(dnsNames);
    if (isUnknown(value)) return value;
    if (value === null) return namesKnown ? defaultCommonName(dnsNames as string[]) : null;
    const normalized =
        typeof value === "string" ? normalizeDnsName(value) : { problem: "commonName must be a DNS name" };
    if ("problem" in normalized) {
        failures.add("commonName", normalized.problem);
        return value;
    }
    const name = normalized.name;
    if (name.length > MAX_COMMON_NAME_LENGTH) {
        failures.add(
            "commonName",
            `commonName ${JSON.stringify(name)} is longer than ${MAX_COMMON_NAME_LENGTH} characters: ` +
                "leave commonName unset (the name stays in subjectAltName)",
        );
    } else if (namesKnown && !(dnsNames as string[]).includes(name)) {
        failures.add(
            "commonName",
            `commonName ${JSON.stringify(name)} is not one of dnsNames: add it to dnsNames or leave commonName unset`,
        );
    }
    return name;
}

function defaultCommonName(dnsNames: readonly string[]): string | null {
    const first = dnsNames[0];
    return first !== undefined && first.length <= MAX_COMMON_NAME_LENGTH ? first : null;
}

export async function diff(
    _id: string,
    olds: CertificateRequestOutputs,
    news: CertificateRequestInputs,
): Promise<pulumi.dynamic.DiffResult> {
    const replaces = changedKeys(olds, news, ["dnsNames", "commonName"]);
    // The key is compared by its public half: the same key in another PEM encoding is the same CSR.
    if (isUnknown(news.privateKeyPem) || publicKeyFingerprint(news.privateKeyPem) !== olds.publicKeyFingerprintSha256) {
        replaces.push("privateKeyPem");
    }
    return replaceDiff(replaces);
}

export async function create(inputs: CertificateRequestInputs): Promise<pulumi.dynamic.CreateResult> {
    const csrPem = await createCsr(inputs.privateKeyPem, inputs.dnsNames, inputs.commonName ?? undefined);
    const outs: CertificateRequestOutputs = {
        csrPem,
        dnsNames: [...inputs.dnsNames],
        commonName: inputs.commonName,
        publicKeyFingerprintSha256: publicKeyFingerprint(inputs.privateKeyPem),
    };
    return { id: crypto.createHash("sha256").update(csrPem).digest("hex"), outs };
}

export async function read(id: string, props: CertificateRequestOutputs): Promise<pulumi.dynamic.ReadResult> {
    return { id, props };
}

export async function update(
    _id: string,
    olds: CertificateRequestOutputs,
    _news: CertificateRequestInputs,
): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: olds };
}

async function deleteRequest(): Promise<void> {
    // Nothing exists outside the state.
}

export { deleteRequest as delete };

/** This module's exports are the provider: Pulumi serializes them as a require() of this file. */
const provider: pulumi.dynamic.ResourceProvider = module.exports;

/**
 * A certificate signing request for `dnsNames`, signed by the certificate's private key. Names are normalised
 * (lower case, IDN to punycode, no trailing dot) and checked at preview; duplicates, invalid labels, misplaced
 * wildcards, IP addresses and more than 100 names are rejected with a message saying what to change.
 * Any change replaces the CSR, and with it the Order and the certificate it leads to.
 */
export class CertificateRequest extends pulumi.dynamic.Resource {
    declare readonly csrPem: pulumi.Output<string>;
    /** Normalised names, in the order given. */
    declare readonly dnsNames: pulumi.Output<string[]>;
    declare readonly commonName: pulumi.Output<string | null>;
    declare readonly publicKeyFingerprintSha256: pulumi.Output<string>;

    constructor(name: string, args: CertificateRequestArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            provider,
            name,
            {
                csrPem: undefined,
                publicKeyFingerprintSha256: undefined,
                commonName: undefined,
                ...args,
                // Kept secret in state whatever the program passed.
                privateKeyPem: pulumi.secret(args.privateKeyPem),
            },
            opts,
            TYPE_MODULE,
            "CertificateRequest",
        );
    }
}
