// Resources with no behaviour worth emulating (load-balancer listeners, Deployments, providers, ...): recorded
// with their inputs, with an id (and for AWS an ARN) made up deterministically from the URN.
import * as crypto from "node:crypto";
import type { PropertyMap } from "../values";
import type { EmulatorRequest, ExistingResource, ResourceEmulator } from "./types";

export class RecordingEmulator implements ResourceEmulator {
    async create(request: EmulatorRequest): Promise<{ id: string; outputs: PropertyMap }> {
        const id = `${request.name}-${crypto.createHash("sha256").update(request.urn).digest("hex").slice(0, 8)}`;
        return { id, outputs: withArn(request, id) };
    }

    async update(existing: ExistingResource, request: EmulatorRequest): Promise<PropertyMap> {
        return withArn(request, existing.id);
    }

    async delete(): Promise<void> {}
}

/** AWS resources carry an ARN output: `arn:aws:<module>:us-east-1:123456789012:<resource>/<id>`. */
function withArn(request: EmulatorRequest, id: string): PropertyMap {
    const [provider, module] = request.type.split(":");
    if (provider !== "aws" || !module) return { ...request.inputs };
    const [service, resource] = module.split("/");
    return { ...request.inputs, arn: `arn:aws:${service}:us-east-1:123456789012:${resource}/${id}` };
}
