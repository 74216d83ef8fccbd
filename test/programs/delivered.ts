// What a harness run left in a stack's state, read the way a user would inspect a deployment: the delivered
// Kubernetes Secret (as the API server returns it: base64 `data`), the Order's expected TXT values, any resource.
import { readState } from "../harness/index";
import type { ResourceState } from "../harness/state";
import { isObject, isSecret, type PropertyValue } from "../harness/values";

export const SECRET_TYPE = "kubernetes:core/v1:Secret";
export const ACM_CERTIFICATE_TYPE = "aws:acm/certificate:Certificate";
export const RECORD_TYPE = "aws:route53/record:Record";
export const libraryType = (kind: string) => `pulumi-nodejs:dynamic/pulumi-acme-certs:${kind}`;

/** The value itself, whether or not state holds it as a secret. */
export function plain(value: PropertyValue | undefined): PropertyValue | undefined {
    return isSecret(value) ? value.value : value;
}

/** Every resource of `type` in the stack's state (secrets decrypted). */
export function resourcesOfType(stateFile: string, type: string): ResourceState[] {
    return (readState(stateFile)?.resources ?? []).filter((resource) => resource.type === type && !resource.delete);
}

/** The one resource of `type`; fails when the stack has none or several. */
export function resourceOfType(stateFile: string, type: string): ResourceState {
    const found = resourcesOfType(stateFile, type);
    if (found.length !== 1) throw new Error(`expected one ${type} in ${stateFile}, found ${found.length}`);
    return found[0]!;
}

/** The TXT values the stack's Order expects, by `_acme-challenge` record name (sorted). */
export function orderChallenges(stateFile: string): Record<string, string[]> {
    const order = resourceOfType(stateFile, libraryType("Order"));
    const records = plain(order.outputs.dnsChallenges) as Array<{ recordName: string; values: string[] }>;
    return Object.fromEntries(records.map((record) => [record.recordName, [...record.values].sort()]));
}

export interface DeliveredSecret {
    id: string;
    namespace: string;
    name: string;
    type: string;
    /** Leaf and intermediates, PEM. */
    tlsCrt: string;
    tlsKey: string;
    annotations: Record<string, string>;
}

/** The stack's `kubernetes.io/tls` Secret, decoded. */
export function deliveredSecret(stateFile: string): DeliveredSecret {
    const secret = resourceOfType(stateFile, SECRET_TYPE);
    const outputs = secret.outputs;
    const metadata = plain(outputs.metadata);
    const data = plain(outputs.data);
    if (!isObject(metadata) || !isObject(data)) throw new Error(`the Secret ${secret.urn} has no metadata or data`);
    const decoded = (key: string) => Buffer.from(String(plain(data[key])), "base64").toString("utf8");
    return {
        id: secret.id!,
        namespace: String(metadata.namespace),
        name: String(metadata.name),
        type: String(plain(outputs.type)),
        tlsCrt: decoded("tls.crt"),
        tlsKey: decoded("tls.key"),
        annotations: (plain(metadata.annotations) ?? {}) as Record<string, string>,
    };
}
