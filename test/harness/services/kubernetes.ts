// Kubernetes emulated as an API server that validates what our library writes and keeps the objects in state.
// Secrets are checked against the API's rules; a ConfigMap labelled as an HTTP-01 solver is also served through
// the stack's HTTP-01 responder, so Pebble can validate a challenge that a program publishes this way.
import * as crypto from "node:crypto";
import { HTTP01_SOLVER_LABEL } from "../../../provider/components/kubernetesHttp01Solver";
import { Http01Responder } from "../../stack/http01";
import { isObject, type PropertyMap, type PropertyValue } from "../values";
import {
    type EmulatorContext,
    type EmulatorRequest,
    type ExistingResource,
    type ResourceEmulator,
    requireService,
} from "./types";

/** A ConfigMap with this label (the library's KubernetesHttp01Solver's) maps tokens to key authorizations. */
export { HTTP01_SOLVER_LABEL };

const TLS_SECRET_TYPE = "kubernetes.io/tls";
const TLS_REQUIRED_KEYS = ["tls.crt", "tls.key"];
const CLUSTER_SCOPED_KINDS = ["Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass"];
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class KubernetesEmulator implements ResourceEmulator {
    async create(request: EmulatorRequest, context: EmulatorContext): Promise<{ id: string; outputs: PropertyMap }> {
        const live = liveObject(request);
        validate(live);
        await this.serveChallenges(live, undefined, context, request.urn);
        const metadata = live.metadata as Record<string, PropertyValue>;
        const id = metadata.namespace ? `${metadata.namespace}/${metadata.name}` : String(metadata.name);
        return { id, outputs: live };
    }

    async update(existing: ExistingResource, request: EmulatorRequest, context: EmulatorContext): Promise<PropertyMap> {
        const live = liveObject(request);
        validate(live);
        await this.serveChallenges(live, existing.outputs, context, request.urn);
        return live;
    }

    async delete(existing: ExistingResource, context: EmulatorContext): Promise<void> {
        await this.serveChallenges(undefined, existing.outputs, context, existing.urn);
    }

    /** Adds the tokens of a solver ConfigMap to the HTTP-01 responder and removes those it no longer holds. */
    private async serveChallenges(
        next: PropertyMap | undefined,
        previous: PropertyMap | undefined,
        context: EmulatorContext,
        urn: string,
    ): Promise<void> {
        const nextTokens = solverChallenges(next);
        const previousTokens = solverChallenges(previous);
        if (nextTokens.size === 0 && previousTokens.size === 0) return;
        const responder = new Http01Responder(
            requireService(context.services.http01, "http01 (the stack's HTTP-01 responder)", urn),
        );
        for (const token of previousTokens.keys()) {
            if (!nextTokens.has(token)) await responder.remove(token);
        }
        for (const [token, keyAuthorization] of nextTokens) await responder.add(token, keyAuthorization);
    }
}

/**
 * The object as the API server returns it: metadata completed (namespace defaulted for namespaced kinds, name
 * generated from the resource name when absent, as the Kubernetes provider's auto-naming does), and for Secrets
 * `stringData` folded into base64 `data`, because the API never returns `stringData`.
 */
function liveObject(request: EmulatorRequest): PropertyMap {
    const live: PropertyMap = { ...request.inputs };
    const kind = String(live.kind ?? request.type.split(":").pop());
    const metadata: Record<string, PropertyValue> = isObject(live.metadata) ? { ...live.metadata } : {};
    if (kind !== "Secret") {
        metadata.name ??= `${request.name}-${crypto.createHash("sha256").update(request.urn).digest("hex").slice(0, 8)}`;
        if (!CLUSTER_SCOPED_KINDS.includes(kind)) metadata.namespace ??= "default";
    }
    live.metadata = metadata;
    if (kind === "Secret" && isObject(live.stringData)) {
        const encoded = Object.entries(live.stringData).map(([key, value]) => [
            key,
            Buffer.from(String(value)).toString("base64"),
        ]);
        live.data = { ...(isObject(live.data) ? live.data : {}), ...Object.fromEntries(encoded) };
        delete live.stringData;
    }
    return live;
}

/** The API server's validation of what our library writes (today: Secrets), in its message format. */
function validate(live: PropertyMap): void {
    if (live.kind !== "Secret") return;
    const metadata = live.metadata as Record<string, PropertyValue>;
    const problems: string[] = [];
    if (typeof metadata.name !== "string" || metadata.name === "") problems.push("metadata.name: Required value");
    if (typeof metadata.namespace !== "string" || metadata.namespace === "") {
        problems.push("metadata.namespace: Required value (set it explicitly: the harness does not default it)");
    }
    const data = isObject(live.data) ? live.data : {};
    for (const [key, value] of Object.entries(data)) {
        if (!DATA_KEY.test(key))
            problems.push(
                `data[${key}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
            );
        if (typeof value !== "string" || !BASE64.test(value)) {
            problems.push(`data[${key}]: Invalid value: must be base64-encoded (use stringData for plain text)`);
        }
    }
    if (live.type === TLS_SECRET_TYPE) {
        for (const key of TLS_REQUIRED_KEYS) if (!(key in data)) problems.push(`data[${key}]: Required value`);
    }
    if (problems.length > 0) {
        const name = typeof metadata.name === "string" ? metadata.name : "";
        throw new Error(`Secret "${name}" is invalid: [${problems.join(", ")}]`);
    }
}

function solverChallenges(object: PropertyMap | undefined): Map<string, string> {
    const metadata = object?.metadata;
    const labels = isObject(metadata) && isObject(metadata.labels) ? metadata.labels : {};
    if (object?.kind !== "ConfigMap" || !(HTTP01_SOLVER_LABEL in labels) || !isObject(object.data)) return new Map();
    return new Map(Object.entries(object.data).map(([token, value]) => [token, String(value)]));
}
