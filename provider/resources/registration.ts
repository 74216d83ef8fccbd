// Registration: an ACME account at a CA (RFC 8555 §7.3), identified by its key.
import * as pulumi from "@pulumi/pulumi";
import { accountClient } from "../acme/client";
import { publicKeyFingerprint } from "../crypto/keys";
import { accountRef, checkAccountKey, checkCaCertificates, checkDirectoryUrl } from "./account";
import {
    changedKeys,
    checkResult,
    Failures,
    isUnknown,
    jsonClean,
    optionalString,
    replaceDiff,
    report,
    TYPE_MODULE,
} from "./dynamic";

export interface ExternalAccountBinding {
    /** The key identifier the CA gave you (ZeroSSL, Google Trust Services, ...). */
    keyId: string;
    /** The HMAC key the CA gave you, base64url. Secret. */
    hmacKey: string;
}

export interface RegistrationArgs {
    /**
     * The CA's ACME directory, e.g. `acme.directories.letsEncrypt.staging`.
     * @default the stack config `acme:directoryUrl`
     */
    directoryUrl?: pulumi.Input<string>;
    /** The account's private key, e.g. `accountKey.privateKeyPem` of a PrivateKey. The key is the account. */
    accountKeyPem: pulumi.Input<string>;
    /**
     * Contact address for the CA. Let's Encrypt no longer sends expiry mail, so this is optional.
     * @default the stack config `acme:email`, else none
     */
    email?: pulumi.Input<string>;
    /** You agree to the CA's terms of service (linked from its directory). Must be true. */
    termsOfServiceAgreed: pulumi.Input<boolean>;
    /** For CAs that require External Account Binding (ZeroSSL, Google Trust Services). Only used to create. */
    externalAccountBinding?: pulumi.Input<{ keyId: pulumi.Input<string>; hmacKey: pulumi.Input<string> }>;
    /**
     * PEM certificates to trust, in addition to Node's roots, for the CA's HTTPS endpoint: for private and test CAs.
     * @default the stack config `acme:caCertificatesPem`, else none
     */
    caCertificatesPem?: pulumi.Input<string>;
    /** Deactivate the account at the CA when this resource is deleted. Deactivation cannot be undone. @default false */
    deactivateOnDelete?: pulumi.Input<boolean>;
}

export interface RegistrationInputs {
    directoryUrl: string;
    accountKeyPem: string;
    email: string | null;
    termsOfServiceAgreed: boolean;
    externalAccountBinding: ExternalAccountBinding | null;
    caCertificatesPem: string | null;
    deactivateOnDelete: boolean;
}

export interface RegistrationOutputs {
    directoryUrl: string;
    /** The account's URL at the CA (its `kid`); also the resource id. */
    accountUrl: string;
    status: string;
    contact: string[];
    email: string | null;
    /** Secret. Kept so Orders and Certificates can sign with it. */
    accountKeyPem: string;
    accountKeyFingerprintSha256: string;
    caCertificatesPem: string | null;
    termsOfServiceAgreed: boolean;
    externalAccountKeyId: string | null;
    deactivateOnDelete: boolean;
}

/** Loose, deliberately: most people get this right, and the CA checks the rest. */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

export async function check(
    _olds: unknown,
    news: Partial<Record<keyof RegistrationInputs, unknown>>,
): Promise<pulumi.dynamic.CheckResult> {
    const failures = new Failures();
    const caCertificatesPem = optionalString(news.caCertificatesPem);
    checkCaCertificates(caCertificatesPem, failures);
    checkDirectoryUrl(news.directoryUrl, caCertificatesPem !== null, failures);
    checkAccountKey(news.accountKeyPem, failures);

    const email = optionalString(news.email);
    if (email !== null && !isUnknown(email) && !EMAIL.test(email)) {
        failures.add(
            "email",
            `email ${JSON.stringify(email)} is not an e-mail address: give one like ops@example.com, or leave it unset`,
        );
    }
    if (news.termsOfServiceAgreed !== true && !isUnknown(news.termsOfServiceAgreed)) {
        failures.add(
            "termsOfServiceAgreed",
            "termsOfServiceAgreed must be true: read the CA's terms of service (linked from its directory) and set termsOfServiceAgreed: true",
        );
    }
    const externalAccountBinding = news.externalAccountBinding ?? null;
    checkExternalAccountBinding(externalAccountBinding, failures);
    const deactivateOnDelete = news.deactivateOnDelete ?? false;
    if (typeof deactivateOnDelete !== "boolean" && !isUnknown(deactivateOnDelete)) {
        failures.add("deactivateOnDelete", "deactivateOnDelete must be true or false");
    }
    const inputs = {
        directoryUrl: news.directoryUrl,
        accountKeyPem: news.accountKeyPem,
        email,
        termsOfServiceAgreed: news.termsOfServiceAgreed,
        externalAccountBinding,
        caCertificatesPem,
        deactivateOnDelete,
    };
    return checkResult(inputs, failures);
}

function checkExternalAccountBinding(value: unknown, failures: Failures): void {
    if (value === null || isUnknown(value)) return;
    const binding = value as Partial<Record<keyof ExternalAccountBinding, unknown>>;
    if (typeof binding !== "object" || binding === null) {
        failures.add("externalAccountBinding", "externalAccountBinding must be { keyId, hmacKey }");
        return;
    }
    if (!isUnknown(binding.keyId) && (typeof binding.keyId !== "string" || binding.keyId.length === 0)) {
        failures.add(
            "externalAccountBinding",
            "externalAccountBinding.keyId is required: use the key id your CA gave you",
        );
    }
    if (!isUnknown(binding.hmacKey) && (typeof binding.hmacKey !== "string" || !BASE64URL.test(binding.hmacKey))) {
        // Never echo the value: it is a secret.
        failures.add(
            "externalAccountBinding",
            "externalAccountBinding.hmacKey must be the base64url HMAC key your CA gave you (letters, digits, - and _)",
        );
    }
}

export async function diff(
    _id: string,
    olds: RegistrationOutputs,
    news: RegistrationInputs,
): Promise<pulumi.dynamic.DiffResult> {
    // The key is the account: another key or another CA is another account.
    const replaces = changedKeys(olds, news, ["directoryUrl"]);
    if (
        isUnknown(news.accountKeyPem) ||
        publicKeyFingerprint(news.accountKeyPem) !== olds.accountKeyFingerprintSha256
    ) {
        replaces.push("accountKeyPem");
    }
    const updates = changedKeys(olds, news, [
        "email",
        "caCertificatesPem",
        "termsOfServiceAgreed",
        "deactivateOnDelete",
    ]);
    if ((news.externalAccountBinding?.keyId ?? null) !== olds.externalAccountKeyId)
        updates.push("externalAccountBinding");
    return replaceDiff(replaces, updates);
}

export async function create(inputs: RegistrationInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = accountClient(accountRef(inputs));
    const meta = await client.directoryMeta();
    if (meta.externalAccountRequired === true && inputs.externalAccountBinding === null) {
        throw new Error(
            `Unable to register an account at ${inputs.directoryUrl}: this CA requires External Account Binding; ` +
                "set externalAccountBinding { keyId, hmacKey } with the values from your CA's dashboard",
        );
    }
    const account = await client.registerAccount({
        contact: contactOf(inputs.email),
        termsOfServiceAgreed: inputs.termsOfServiceAgreed,
        externalAccountBinding: inputs.externalAccountBinding,
    });
    report(inputs.directoryUrl, `account ${account.url} is ${account.status}`);
    return { id: account.url, outs: outputsOf(inputs, account.url, account.status, account.contact) };
}

export async function read(id: string, props: RegistrationOutputs): Promise<pulumi.dynamic.ReadResult> {
    // Nothing about the account changes without us; asking the CA on every refresh would only add a failure mode.
    return { id, props };
}

export async function update(
    id: string,
    olds: RegistrationOutputs,
    news: RegistrationInputs,
): Promise<pulumi.dynamic.UpdateResult> {
    let { status, contact } = olds;
    if ((news.email ?? null) !== olds.email) {
        const account = await accountClient(accountRef({ ...news, accountUrl: id })).updateAccountContact(
            contactOf(news.email),
        );
        ({ status, contact } = account);
    }
    return { outs: outputsOf(news, id, status, contact) };
}

async function deleteRegistration(id: string, props: RegistrationOutputs): Promise<void> {
    if (!props.deactivateOnDelete) return;
    await accountClient(accountRef({ ...props, accountUrl: id })).deactivateAccount();
    report(props.directoryUrl, `account ${id} deactivated`);
}

export { deleteRegistration as delete };

function contactOf(email: string | null): string[] {
    return email ? [`mailto:${email}`] : [];
}

function outputsOf(
    inputs: RegistrationInputs,
    accountUrl: string,
    status: string,
    contact: string[],
): RegistrationOutputs {
    return jsonClean({
        directoryUrl: inputs.directoryUrl,
        accountUrl,
        status,
        contact,
        email: inputs.email,
        accountKeyPem: inputs.accountKeyPem,
        accountKeyFingerprintSha256: publicKeyFingerprint(inputs.accountKeyPem),
        caCertificatesPem: inputs.caCertificatesPem,
        termsOfServiceAgreed: inputs.termsOfServiceAgreed,
        // The HMAC key is used once, to create; it is not kept in outputs.
        externalAccountKeyId: inputs.externalAccountBinding?.keyId ?? null,
        deactivateOnDelete: inputs.deactivateOnDelete,
    });
}

/** This module's exports are the provider: Pulumi serializes them as a require() of this file. */
const provider: pulumi.dynamic.ResourceProvider = module.exports;

/**
 * An ACME account. Creating it registers the account key at the CA; a key that already has an account there
 * adopts that account (the same key is the same account), so recreating a stack never makes a second account.
 * A new contact e-mail is updated in place; another key or CA replaces it. Deleting it leaves the account as it
 * is unless `deactivateOnDelete` is set.
 *
 * `directoryUrl`, `email` and `caCertificatesPem` fall back to the stack config `acme:directoryUrl`,
 * `acme:email` and `acme:caCertificatesPem`.
 */
export class Registration extends pulumi.dynamic.Resource {
    declare readonly directoryUrl: pulumi.Output<string>;
    declare readonly accountUrl: pulumi.Output<string>;
    declare readonly status: pulumi.Output<string>;
    declare readonly contact: pulumi.Output<string[]>;
    declare readonly email: pulumi.Output<string | null>;
    /** Secret. */
    declare readonly accountKeyPem: pulumi.Output<string>;
    declare readonly accountKeyFingerprintSha256: pulumi.Output<string>;
    declare readonly caCertificatesPem: pulumi.Output<string | null>;

    constructor(name: string, args: RegistrationArgs, opts?: pulumi.CustomResourceOptions) {
        const config = new pulumi.Config("acme");
        super(
            provider,
            name,
            {
                accountUrl: undefined,
                status: undefined,
                contact: undefined,
                accountKeyFingerprintSha256: undefined,
                ...args,
                directoryUrl: args.directoryUrl ?? config.get("directoryUrl"),
                email: args.email ?? config.get("email"),
                caCertificatesPem: args.caCertificatesPem ?? config.get("caCertificatesPem"),
                accountKeyPem: pulumi.secret(args.accountKeyPem),
                externalAccountBinding: args.externalAccountBinding && pulumi.secret(args.externalAccountBinding),
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["accountKeyPem"] }),
            TYPE_MODULE,
            "Registration",
        );
    }
}
