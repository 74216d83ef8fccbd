// How the engine reaches the provider of one custom resource: dynamic resources through the real provider host,
// everything else through a service emulator. Both take and give wire-form values and apply the engine's secret
// rules, so the step logic above them does not care which one it talks to.
import type { DynamicProviderHost, ProviderDiff } from "./host";
import { diffByInputs } from "./rules";
import type { ServiceEmulators } from "./services";
import type { ResourceState } from "./state";
import { annotateSecrets, markSecretOutputs, type PropertyMap, stripSecrets } from "./values";

/** The type token prefix of every `pulumi.dynamic.Resource`. */
export const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";

export const isDynamic = (type: string) => type.startsWith(DYNAMIC_TYPE_PREFIX);

/** The resource a driver acts on: what the program registered, or what state recorded. */
export interface Target {
    urn: string;
    type: string;
    additionalSecretOutputs?: readonly string[];
}

/** A Check failure, reported as the engine reports it: `property <p>: <reason>`. */
export class CheckFailedError extends Error {
    constructor(readonly failures: { property: string; reason: string }[]) {
        super(failures.map((f) => (f.property ? `property ${f.property}: ${f.reason}` : f.reason)).join("; "));
        this.name = "CheckFailedError";
    }
}

export interface Driver {
    /** The checked inputs (throws CheckFailedError). */
    check(target: Target, oldInputs: PropertyMap | undefined, news: PropertyMap): Promise<PropertyMap>;
    diff(old: ResourceState, inputs: PropertyMap): Promise<ProviderDiff>;
    create(target: Target, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }>;
    update(old: ResourceState, target: Target, inputs: PropertyMap): Promise<PropertyMap>;
    delete(old: ResourceState): Promise<void>;
    /** The outputs a preview answers with (outputs left out are unknown to dependents). */
    previewOutputs(old: ResourceState | undefined, inputs: PropertyMap): PropertyMap;
}

/** Observes the start of Create and Update calls through a host (crash injection hooks in here). */
export type MutationListener = (target: Target, host: DynamicProviderHost) => void;

export class DynamicDriver implements Driver {
    constructor(
        private readonly host: () => Promise<DynamicProviderHost>,
        private readonly onMutation: MutationListener = () => {},
    ) {}

    async check(target: Target, oldInputs: PropertyMap | undefined, news: PropertyMap): Promise<PropertyMap> {
        const { inputs, failures } = await (await this.host()).check(target.urn, oldInputs ?? {}, news);
        if (failures.length > 0) throw new CheckFailedError(failures);
        return inputs;
    }

    async diff(old: ResourceState, inputs: PropertyMap): Promise<ProviderDiff> {
        return (await this.host()).diff(old.id ?? "", old.urn, old.outputs, inputs, old.inputs);
    }

    async create(target: Target, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }> {
        const host = await this.host();
        this.onMutation(target, host);
        return host.create(target.urn, inputs, { additionalSecretOutputs: target.additionalSecretOutputs ?? [] });
    }

    async update(old: ResourceState, target: Target, inputs: PropertyMap): Promise<PropertyMap> {
        const host = await this.host();
        this.onMutation(target, host);
        const options = { additionalSecretOutputs: target.additionalSecretOutputs ?? [] };
        return (await host.update(old.id ?? "", old.urn, old.outputs, inputs, old.inputs, options)).outputs;
    }

    async delete(old: ResourceState): Promise<void> {
        await (await this.host()).delete(old.id ?? "", old.urn, old.outputs, old.inputs);
    }

    /** The dynamic host does not support previews, so the engine answers with the inputs. */
    previewOutputs(_old: ResourceState | undefined, inputs: PropertyMap): PropertyMap {
        return inputs;
    }
}

export class EmulatedDriver implements Driver {
    constructor(
        private readonly emulators: ServiceEmulators,
        /** The outputs each URN had before this run (what it already owns). */
        private readonly previousOutputs: (urn: string) => PropertyMap | undefined,
    ) {}

    /** Emulated providers validate when they create or update, as the real APIs do. */
    async check(_target: Target, _oldInputs: PropertyMap | undefined, news: PropertyMap): Promise<PropertyMap> {
        return news;
    }

    async diff(old: ResourceState, inputs: PropertyMap): Promise<ProviderDiff> {
        return diffByInputs(old.inputs, inputs, this.emulators.replaceOnChanges(old.type));
    }

    async create(target: Target, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }> {
        const created = await this.emulators
            .emulatorFor(target.type)
            .create(this.request(target, inputs), this.context(target.urn));
        return { id: created.id, outputs: this.secretsMarked(target, created.outputs, inputs) };
    }

    async update(old: ResourceState, target: Target, inputs: PropertyMap): Promise<PropertyMap> {
        const existing = { urn: old.urn, id: old.id ?? "", outputs: stripSecrets(old.outputs) };
        const outputs = await this.emulators
            .emulatorFor(old.type)
            .update(existing, this.request(target, inputs), this.context(old.urn));
        return this.secretsMarked(target, outputs, inputs);
    }

    async delete(old: ResourceState): Promise<void> {
        const existing = { urn: old.urn, id: old.id ?? "", outputs: stripSecrets(old.outputs) };
        await this.emulators.emulatorFor(old.type).delete(existing, this.context(old.urn));
    }

    /** A real provider previews an update with the computed outputs it already knows (ids, ARNs) kept. */
    previewOutputs(old: ResourceState | undefined, inputs: PropertyMap): PropertyMap {
        return old ? { ...old.outputs, ...inputs } : inputs;
    }

    private request(target: Target, inputs: PropertyMap) {
        const name = target.urn.slice(target.urn.lastIndexOf("::") + 2);
        return { urn: target.urn, type: target.type, name, inputs: stripSecrets(inputs) };
    }

    private context(urn: string) {
        const previousOutputs = this.previousOutputs(urn);
        return {
            services: this.emulators.services,
            ...(previousOutputs ? { previousOutputs: stripSecrets(previousOutputs) } : {}),
        };
    }

    private secretsMarked(target: Target, outputs: PropertyMap, inputs: PropertyMap): PropertyMap {
        return markSecretOutputs(annotateSecrets(outputs, inputs), target.additionalSecretOutputs ?? []);
    }
}
