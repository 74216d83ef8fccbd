// The account fields every resource that talks to the CA carries: which CA, which account, which key, which trust.
import * as pulumi from "@pulumi/pulumi";
import type { AcmeAccountRef } from "../acme/client";
import { describeCertificate, splitPemChain } from "../crypto/certificate";
import { inspectPrivateKey } from "../crypto/keys";
import { memoizeByText } from "../crypto/memo";
import { type Failures, isUnknown, optionalString } from "./dynamic";

/**
 * The account an Order or Certificate uses: a Registration, or the same four fields from anywhere else (another
 * stack's outputs, for example).
 */
export interface AcmeAccountArgs {
    directoryUrl: pulumi.Input<string>;
    accountUrl: pulumi.Input<string>;
    /** Secret. */
    accountKeyPem: pulumi.Input<string>;
    caCertificatesPem?: pulumi.Input<string | null | undefined>;
}

/** The inputs a resource registers for its account; the key stays secret whatever the program passed. */
export function accountInputs(account: AcmeAccountArgs) {
    return {
        directoryUrl: account.directoryUrl,
        accountUrl: account.accountUrl,
        accountKeyPem: pulumi.secret(account.accountKeyPem),
        caCertificatesPem: account.caCertificatesPem,
    };
}

/** Checked account fields, as Orders and Certificates keep them in state. */
export interface AccountFields {
    directoryUrl: string;
    accountUrl: string;
    accountKeyPem: string;
    caCertificatesPem: string | null;
}

/** Validates the account fields of `news`, adding failures; returns them checked. */
export function checkAccountFields(news: Partial<Record<keyof AccountFields, unknown>>, failures: Failures) {
    const caCertificatesPem = optionalString(news.caCertificatesPem);
    checkCaCertificates(caCertificatesPem, failures);
    checkDirectoryUrl(news.directoryUrl, caCertificatesPem !== null, failures);
    checkAccountKey(news.accountKeyPem, failures);
    if (!isUnknown(news.accountUrl) && !isUrl(news.accountUrl)) {
        failures.add("accountUrl", "accountUrl is required: pass a Registration as `account`");
    }
    return {
        directoryUrl: news.directoryUrl,
        accountUrl: news.accountUrl,
        accountKeyPem: news.accountKeyPem,
        caCertificatesPem,
    };
}

export function checkDirectoryUrl(value: unknown, privateCa: boolean, failures: Failures): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || value.length === 0) {
        failures.add(
            "directoryUrl",
            "directoryUrl is required: pass it (e.g. acme.directories.letsEncrypt.staging) or run `pulumi config set acme:directoryUrl <url>`",
        );
        return;
    }
    if (!isUrl(value)) {
        failures.add(
            "directoryUrl",
            `directoryUrl ${JSON.stringify(value)} is not a URL: give the CA's ACME directory URL`,
        );
        return;
    }
    const allowed = privateCa ? ["https:", "http:"] : ["https:"];
    if (!allowed.includes(new URL(value).protocol)) {
        failures.add(
            "directoryUrl",
            `directoryUrl ${JSON.stringify(value)} must use https (ACME requires TLS); plain http is only accepted for a private or test CA given with caCertificatesPem`,
        );
    }
}

export function checkAccountKey(value: unknown, failures: Failures): void {
    if (isUnknown(value)) return;
    if (typeof value !== "string" || value.length === 0) {
        failures.add("accountKeyPem", "accountKeyPem is required: pass the privateKeyPem output of a PrivateKey");
        return;
    }
    const inspected = inspectPrivateKey(value);
    if ("problem" in inspected) failures.add("accountKeyPem", inspected.problem);
}

export function checkCaCertificates(value: string | null, failures: Failures): void {
    if (value === null || isUnknown(value)) return;
    for (const problem of caCertificatesProblems(value)) failures.add("caCertificatesPem", problem);
}

/** What is wrong with a CA bundle; remembered by its text, which every Order and Certificate of an account repeats. */
const caCertificatesProblems = memoizeByText((bundle: string): string[] => {
    const certificates = splitPemChain(bundle);
    if (certificates.length === 0) {
        return ["caCertificatesPem holds no PEM certificate: give the CA's certificate(s) in PEM"];
    }
    return certificates.flatMap((pem, index) => {
        try {
            describeCertificate(pem);
            return [];
        } catch {
            return [`certificate ${index + 1} of caCertificatesPem is not a valid PEM certificate`];
        }
    });
});

function isUrl(value: unknown): value is string {
    if (typeof value !== "string") return false;
    try {
        new URL(value);
        return true;
    } catch {
        return false;
    }
}

/** What the ACME layer needs to find (or make) the client for these fields. */
export function accountRef(
    fields: Pick<AccountFields, "directoryUrl" | "accountKeyPem" | "caCertificatesPem"> & {
        accountUrl?: string | null;
    },
): AcmeAccountRef {
    return {
        directoryUrl: fields.directoryUrl,
        accountKeyPem: fields.accountKeyPem,
        caCertificatesPem: fields.caCertificatesPem,
        accountUrl: fields.accountUrl ?? null,
    };
}
