// The stack's state: one JSON file per stack, rewritten after every completed step so that a crash leaves the
// truth behind. Secrets are stored encrypted (AES-256-GCM, key in a separate file beside the state) in Pulumi's
// format, so the state file can be searched for key material and must yield none.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    isObject,
    isSecret,
    mapProperties,
    type PropertyMap,
    type PropertyValue,
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    secret,
} from "./values";

/** One resource as the engine records it. Values are in wire form: secrets as `{[SIGNATURE_KEY], value}`. */
export interface ResourceState {
    urn: string;
    type: string;
    custom: boolean;
    /** Set for custom resources once created. */
    id?: string;
    inputs: PropertyMap;
    outputs: PropertyMap;
    parent?: string;
    dependencies: string[];
    /** A provider reference, `<provider urn>::<provider id>`. */
    provider?: string;
    additionalSecretOutputs?: string[];
    /** The `replacementTrigger` option: a change of it replaces the resource without asking the provider. */
    replacementTrigger?: PropertyValue;
    /** The `retainOnDelete` option: removing the resource from the stack leaves the real object alone. */
    retainOnDelete?: boolean;
    /** Replaced by a newer resource of the same URN; deleted at the end of the run that replaced it. */
    delete?: boolean;
}

/** An operation that was started but whose result was never recorded (the process running it died). */
export interface PendingOperation {
    urn: string;
    type: "creating" | "updating" | "deleting";
}

export interface StackState {
    project: string;
    stack: string;
    resources: ResourceState[];
    pendingOperations: PendingOperation[];
}

const STATE_VERSION = 1;
const CIPHER = "aes-256-gcm";

/** The key file that belongs to a state file. */
export const keyFileOf = (stateFile: string) => `${stateFile}.key`;

export function emptyState(project: string, stack: string): StackState {
    return { project, stack, resources: [], pendingOperations: [] };
}

/** Reads a state file (secrets decrypted), or undefined when there is none yet. */
export function readState(stateFile: string): StackState | undefined {
    if (!fs.existsSync(stateFile)) return undefined;
    const document = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    if (document.version !== STATE_VERSION) {
        throw new Error(
            `${stateFile} has state version ${document.version}; this harness reads version ${STATE_VERSION}`,
        );
    }
    const key = readKey(stateFile);
    const decrypt = (value: PropertyValue) =>
        isCiphertext(value) ? secret(decryptValue(value.ciphertext, key)) : value;
    return {
        project: document.project,
        stack: document.stack,
        pendingOperations: document.pendingOperations ?? [],
        resources: (document.resources as ResourceState[]).map((resource) => ({
            ...resource,
            inputs: mapProperties(resource.inputs, decrypt),
            outputs: mapProperties(resource.outputs, decrypt),
        })),
    };
}

/** Writes the state atomically (write + rename), secrets encrypted. */
export function writeState(stateFile: string, state: StackState): void {
    const key = readKey(stateFile, { create: true });
    const encrypt = (value: PropertyValue) =>
        isSecret(value) ? { [SIGNATURE_KEY]: SECRET_SIGNATURE, ciphertext: encryptValue(value.value, key) } : value;
    const document = {
        version: STATE_VERSION,
        project: state.project,
        stack: state.stack,
        resources: state.resources.map((resource) => ({
            ...resource,
            inputs: mapProperties(resource.inputs, encrypt),
            outputs: mapProperties(resource.outputs, encrypt),
        })),
        pendingOperations: state.pendingOperations,
    };
    const temporary = `${stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`);
    fs.renameSync(temporary, stateFile);
}

/**
 * The state as `pulumi stack export` prints it (version 3). Secrets stay ciphertext, or with `showSecrets` become
 * `{"4dabf…": "1b47…", "plaintext": "<JSON of the value>"}` as `pulumi stack export --show-secrets` prints them.
 */
export function exportStack(stateFile: string, options: { showSecrets?: boolean } = {}): object {
    const document = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    const key = options.showSecrets ? readKey(stateFile) : undefined;
    const reveal = (value: PropertyValue) =>
        key && isCiphertext(value)
            ? { [SIGNATURE_KEY]: SECRET_SIGNATURE, plaintext: JSON.stringify(decryptValue(value.ciphertext, key)) }
            : value;
    return {
        version: 3,
        deployment: {
            manifest: { time: fs.statSync(stateFile).mtime.toISOString(), magic: "", version: "harness" },
            secrets_providers: { type: "harness", state: { keyFile: path.basename(keyFileOf(stateFile)) } },
            resources: (document.resources as ResourceState[]).map((resource) =>
                withoutEmpty({
                    urn: resource.urn,
                    custom: resource.custom,
                    delete: resource.delete,
                    id: resource.id,
                    type: resource.type,
                    inputs: mapProperties(resource.inputs, reveal),
                    outputs: mapProperties(resource.outputs, reveal),
                    parent: resource.parent,
                    dependencies: resource.dependencies,
                    provider: resource.provider,
                    additionalSecretOutputs: resource.additionalSecretOutputs,
                    retainOnDelete: resource.retainOnDelete,
                }),
            ),
            ...(document.pendingOperations?.length
                ? {
                      pending_operations: (document.pendingOperations as PendingOperation[]).map((operation) => ({
                          resource: { urn: operation.urn },
                          type: operation.type,
                      })),
                  }
                : {}),
        },
    };
}

/** The URN part of a provider reference `<urn>::<id>`. */
export const providerUrnOf = (reference: string) => reference.slice(0, reference.lastIndexOf("::"));

/**
 * Orders resources for deletion: a resource comes only after every resource in the list that depends on it (through
 * `dependencies`, `parent` or `provider`). Ties keep the reverse of the list order, which is creation order.
 */
export function dependentsFirst(resources: readonly ResourceState[]): ResourceState[] {
    const remaining = [...resources].reverse();
    const ordered: ResourceState[] = [];
    const dependsOn = (resource: ResourceState, urn: string) =>
        resource.parent === urn ||
        resource.dependencies.includes(urn) ||
        (resource.provider !== undefined && providerUrnOf(resource.provider) === urn);
    while (remaining.length > 0) {
        const index = remaining.findIndex(
            (candidate) => !remaining.some((other) => other !== candidate && dependsOn(other, candidate.urn)),
        );
        // A cycle cannot come from a program (dependencies must exist first); take the next one to make progress.
        ordered.push(...remaining.splice(Math.max(index, 0), 1));
    }
    return ordered;
}

function withoutEmpty(record: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(record).filter(
            ([, value]) => value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0),
        ),
    );
}

function isCiphertext(value: PropertyValue): value is { [SIGNATURE_KEY]: string; ciphertext: string } {
    return isObject(value) && value[SIGNATURE_KEY] === SECRET_SIGNATURE && typeof value.ciphertext === "string";
}

function readKey(stateFile: string, options: { create?: boolean } = {}): Buffer {
    const keyFile = keyFileOf(stateFile);
    if (!fs.existsSync(keyFile)) {
        if (!options.create) throw new Error(`${keyFile} is missing: the secrets in ${stateFile} cannot be decrypted`);
        fs.writeFileSync(keyFile, crypto.randomBytes(32).toString("base64"), { mode: 0o600 });
    }
    return Buffer.from(fs.readFileSync(keyFile, "utf8"), "base64");
}

/** `v1:<nonce>:<ciphertext + tag>`, the shape of Pulumi's passphrase crypter, of the value's JSON. */
function encryptValue(value: PropertyValue, key: Buffer): string {
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv(CIPHER, key, nonce);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

function decryptValue(ciphertext: string, key: Buffer): PropertyValue {
    const [version, nonce, sealed] = ciphertext.split(":");
    if (version !== "v1" || !nonce || !sealed) throw new Error("unrecognized secret ciphertext in state");
    const bytes = Buffer.from(sealed, "base64");
    const decipher = crypto.createDecipheriv(CIPHER, key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plaintext = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
    return JSON.parse(plaintext.toString("utf8"));
}
