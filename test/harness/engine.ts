// The engine of a harness run: plays `pulumi up`, `preview`, `refresh` and `destroy` against one stack's state,
// with dynamic resources going to the real provider host and everything else to the service emulators.
import { type ConfigEntry, providerConfig } from "./config";
import { formatStep } from "./display";
import { type Driver, DynamicDriver, EmulatedDriver, isDynamic, type Target } from "./drivers";
import { DynamicProviderHost, HostCallError, type HostLine } from "./host";
import { type EngineHandler, type Registration, type RegistrationResult, runProgram } from "./monitor";
import { outputsForResult, type RunResult, type Step, type StepOp } from "./result";
import { decideChange, describeDiff, refreshDrifted } from "./rules";
import { ServiceEmulators, type ServicesConfig } from "./services";
import { Snapshot } from "./snapshot";
import { dependentsFirst, emptyState, type ResourceState, readState, type StackState } from "./state";
import { annotateSecrets, deepEqual, markSecretOutputs, type PropertyMap, stripSecrets } from "./values";

/** SIGKILL the provider host `afterMs` after the first Create/Update of a resource whose type ends in `:<type>`. */
export interface HostKill {
    type: string;
    afterMs: number;
}

export interface EngineOptions {
    stateFile: string;
    project: string;
    stack: string;
    config: readonly ConfigEntry[];
    services: ServicesConfig;
    /** Where the provider host runs (require() in serialized providers resolves from here). */
    hostCwd: string;
    clockOffsetSeconds?: number;
    killHostDuring?: HostKill;
    /** Receives one line per step as it completes (in a preview: as it is planned). */
    print: (line: string) => void;
}

export class Engine {
    private readonly steps: Step[] = [];
    private readonly warnings: string[] = [];
    private error: RunResult["error"];
    private driftDetected = false;
    private host?: Promise<DynamicProviderHost>;
    private hostKilled = false;
    private readonly emulators: ServiceEmulators;
    /** The state before this run, for emulators that must know what a resource already owns. */
    private readonly previous: StackState;

    constructor(private readonly options: EngineOptions) {
        this.emulators = new ServiceEmulators(options.services);
        this.previous = this.loadState();
    }

    /** Runs the program (`up`, or `preview` when `preview`), optionally refreshing first. */
    async up(
        program: () => unknown,
        { preview, refresh }: { preview: boolean; refresh: boolean },
    ): Promise<PropertyMap> {
        let state = this.previous;
        if (refresh) state = { ...state, resources: (await this.refreshed(state, preview)).resources() };
        if (this.error) return {};
        const snapshot = new Snapshot(state, preview ? undefined : this.options.stateFile);
        const deployment = new Deployment(this, snapshot, preview);
        let outputs: PropertyMap = {};
        try {
            outputs = await runProgram(program, deployment, {
                project: this.options.project,
                stack: this.options.stack,
                preview,
            });
        } catch (error) {
            this.programFailed(error);
        }
        if (!this.error) await deployment.deleteLeftovers();
        return outputs;
    }

    /** Reads every dynamic resource again and records what changed; fails on drift when `expectNoChanges`. */
    async refresh({ expectNoChanges }: { expectNoChanges: boolean }): Promise<void> {
        await this.refreshed(this.previous, false);
        if (!this.error && expectNoChanges && this.driftDetected) {
            const changed = this.steps.filter((s) => s.op !== "refresh-same").map((s) => s.urn);
            this.error = { message: `no changes were expected but changes occurred: ${changed.join(", ")}` };
        }
    }

    /** Deletes every resource of the stack, dependents first. */
    async destroy(): Promise<void> {
        const snapshot = new Snapshot(this.previous, this.options.stateFile);
        for (const resource of dependentsFirst(snapshot.resources())) {
            if (!(await this.deleteResource(snapshot, resource, false))) return;
        }
    }

    /** A program failure that is not already explained by a failed step. */
    programFailed(error: unknown): void {
        if (this.error) return;
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        this.error = { message: `running the program failed with an unhandled exception:\n${detail}` };
    }

    /** Stops the host and assembles the result. */
    async finish(command: RunResult["command"], outputs: PropertyMap): Promise<RunResult> {
        let diagnostics: HostLine[] = [];
        if (this.host) {
            const host = await this.host.catch(() => undefined);
            diagnostics = host?.lines ?? [];
            await host?.stop();
        }
        return {
            command,
            ok: this.error === undefined,
            steps: this.steps,
            outputs: outputsForResult(outputs),
            diagnostics,
            warnings: this.warnings,
            driftDetected: this.driftDetected,
            ...(this.error ? { error: this.error } : {}),
        };
    }

    get failed(): boolean {
        return this.error !== undefined;
    }

    /** Records a failed step (the first failure is the run's error) and returns the error to answer the SDK with. */
    stepFailed(urn: string, error: unknown): Error {
        const message = `${urn}: ${error instanceof Error ? error.message : String(error)}`;
        this.error ??= { urn, message };
        return new Error(message);
    }

    step(op: StepOp, resource: { urn: string; type: string }, reason?: string): void {
        const name = resource.urn.slice(resource.urn.lastIndexOf("::") + 2);
        const step: Step = { op, urn: resource.urn, type: resource.type, name, ...(reason ? { reason } : {}) };
        this.steps.push(step);
        this.options.print(formatStep(step));
    }

    /** A data source call from the program, answered by the emulators (with plaintext, as providers get it). */
    invoke(token: string, inputs: PropertyMap): PropertyMap {
        return this.emulators.invoke(token, stripSecrets(inputs));
    }

    driverFor(type: string): Driver {
        if (isDynamic(type)) {
            return new DynamicDriver(
                () => this.startedHost(),
                (target, host) => this.maybeKillHost(target, host),
            );
        }
        return new EmulatedDriver(this.emulators, (urn) => this.previous.resources.find((r) => r.urn === urn)?.outputs);
    }

    /** Deletes one resource through its provider (unless retained) and records it; false when it failed. */
    async deleteResource(
        snapshot: Snapshot,
        resource: ResourceState,
        preview: boolean,
        reason?: string,
    ): Promise<boolean> {
        try {
            if (!preview && resource.custom && !resource.retainOnDelete) {
                const driver = this.driverFor(resource.type);
                await snapshot.pendingWhile({ urn: resource.urn, type: "deleting" }, () => driver.delete(resource));
            }
            snapshot.remove(resource);
            this.step("delete", resource, reason);
            return true;
        } catch (error) {
            this.stepFailed(resource.urn, error);
            return false;
        }
    }

    private async refreshed(state: StackState, preview: boolean): Promise<Snapshot> {
        const snapshot = new Snapshot(state, preview ? undefined : this.options.stateFile);
        for (const resource of snapshot.resources()) {
            if (!resource.custom || !isDynamic(resource.type) || resource.delete || !resource.id) continue;
            try {
                await this.refreshResource(snapshot, resource);
            } catch (error) {
                this.stepFailed(resource.urn, error);
                break;
            }
        }
        return snapshot;
    }

    /** Read, then the inverted Diff (olds = what was read, news = the old inputs) to tell drift from no change. */
    private async refreshResource(snapshot: Snapshot, resource: ResourceState): Promise<void> {
        const host = await this.startedHost();
        const options = { additionalSecretOutputs: resource.additionalSecretOutputs ?? [] };
        const read = await host.read(resource.id!, resource.urn, resource.outputs, resource.inputs, options);
        if (read.id === "") {
            snapshot.remove(resource);
            this.driftDetected = true;
            this.step("refresh-delete", resource, "the provider reports it gone");
            return;
        }
        const inverted = await host.diff(read.id, resource.urn, read.outputs, resource.inputs, resource.inputs);
        const drifted = refreshDrifted(inverted, resource.outputs, read.outputs);
        snapshot.record({ ...resource, id: read.id, outputs: read.outputs, inputs: read.inputs ?? resource.inputs });
        if (!drifted) {
            this.step("refresh-same", resource);
            return;
        }
        this.driftDetected = true;
        const replaces = inverted.replaces.length > 0 ? `replace: ${inverted.replaces.join(", ")}` : "";
        const reason = [describeDiff(resource.outputs, read.outputs), replaces].filter(Boolean).join("; ");
        this.step("refresh-drift", resource, reason || "the provider's diff reports changes");
    }

    private startedHost(): Promise<DynamicProviderHost> {
        this.host ??= (async () => {
            const host = await DynamicProviderHost.start({
                cwd: this.options.hostCwd,
                project: this.options.project,
                ...(this.options.clockOffsetSeconds ? { clockOffsetSeconds: this.options.clockOffsetSeconds } : {}),
            });
            await host.configure(providerConfig(this.options.config));
            return host;
        })();
        return this.host;
    }

    private maybeKillHost(target: Target, host: DynamicProviderHost): void {
        const kill = this.options.killHostDuring;
        if (!kill || this.hostKilled || !target.type.endsWith(`:${kill.type}`)) return;
        this.hostKilled = true;
        setTimeout(() => host.kill(), kill.afterMs);
    }

    private loadState(): StackState {
        const { stateFile, project, stack } = this.options;
        const state = readState(stateFile) ?? emptyState(project, stack);
        if (state.project !== project || state.stack !== stack) {
            throw new Error(
                `${stateFile} holds stack ${state.project}/${state.stack}, not ${project}/${stack}: use another --state`,
            );
        }
        if (state.pendingOperations.length > 0) {
            // As the engine does: the outcome of these is unknown, so they are dropped with a warning.
            const operations = state.pendingOperations.map((op) => `${op.type} ${op.urn}`).join(", ");
            this.warnings.push(`the previous run was interrupted; dropped its pending operations: ${operations}`);
        }
        return { ...state, pendingOperations: [] };
    }
}

/** One program run's registrations, turned into steps. */
class Deployment implements EngineHandler {
    private readonly registered = new Set<string>();

    constructor(
        private readonly engine: Engine,
        private readonly snapshot: Snapshot,
        private readonly preview: boolean,
    ) {}

    async register(registration: Registration): Promise<RegistrationResult> {
        const { urn } = registration;
        if (this.engine.failed) throw new Error(`${urn}: not registered: the deployment stopped at an earlier error`);
        try {
            if (this.registered.has(urn)) {
                throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
            }
            this.registered.add(urn);
            return registration.custom ? await this.registerCustom(registration) : this.registerComponent(registration);
        } catch (error) {
            throw this.engine.stepFailed(urn, error);
        }
    }

    registerOutputs(urn: string, outputs: PropertyMap): void {
        const resource = this.snapshot.current(urn);
        if (resource && this.registered.has(urn)) this.snapshot.record({ ...resource, outputs });
    }

    invoke(token: string, inputs: PropertyMap): PropertyMap {
        return this.engine.invoke(token, inputs);
    }

    /** Deletes what the program no longer registers, and replaced resources, dependents first. */
    async deleteLeftovers(): Promise<void> {
        for (const resource of dependentsFirst(this.snapshot.leftovers())) {
            const reason = resource.delete ? "replaced" : "not in program";
            if (!(await this.engine.deleteResource(this.snapshot, resource, this.preview, reason))) return;
        }
    }

    private registerComponent(registration: Registration): RegistrationResult {
        const old = this.snapshot.old(registration.urn);
        const op = !old ? "create" : deepEqual(old.inputs, registration.inputs) ? "same" : "update";
        this.snapshot.record({ ...stateOf(registration, registration.inputs), outputs: old?.outputs ?? {} });
        this.engine.step(
            op,
            registration,
            op === "update" ? describeDiff(old!.inputs, registration.inputs) : undefined,
        );
        return { outputs: {} };
    }

    private async registerCustom(registration: Registration): Promise<RegistrationResult> {
        const driver = this.engine.driverFor(registration.type);
        const old = this.snapshot.old(registration.urn);
        const news = withIgnoredChanges(registration.inputs, old?.inputs, registration.ignoreChanges);
        const inputs = await driver.check(registration, old?.inputs, news);
        const planned = stateOf(registration, inputs);
        if (!old) {
            if (this.preview) return this.planned("create", planned, driver.previewOutputs(undefined, inputs));
            const created = await this.create(driver, registration, planned);
            this.snapshot.record(created);
            return this.done("create", created);
        }
        const decision = await this.decide(driver, registration, old, inputs);
        switch (decision.op) {
            case "same": {
                const kept = { ...planned, id: old.id, outputs: old.outputs };
                this.snapshot.record(kept);
                return this.done("same", kept);
            }
            case "update":
                return this.update(driver, registration, old, { ...planned, id: old.id }, decision.reason);
            case "replace":
                return this.replace(driver, registration, old, planned, decision);
        }
    }

    private async update(
        driver: Driver,
        registration: Registration,
        old: ResourceState,
        planned: ResourceState,
        reason: string,
    ): Promise<RegistrationResult> {
        if (this.preview) return this.planned("update", planned, driver.previewOutputs(old, planned.inputs), reason);
        const outputs = await this.snapshot.pendingWhile({ urn: old.urn, type: "updating" }, () =>
            driver.update(old, registration, planned.inputs),
        );
        const updated = { ...planned, outputs };
        this.snapshot.record(updated);
        return this.done("update", updated, reason);
    }

    /** Create-before-delete (the old one is deleted at the end of the run), or delete-before-replace. */
    private async replace(
        driver: Driver,
        registration: Registration,
        old: ResourceState,
        planned: ResourceState,
        decision: { reason: string; deleteBeforeReplace: boolean },
    ): Promise<RegistrationResult> {
        const { reason, deleteBeforeReplace } = decision;
        if (this.preview)
            return this.planned("replace", planned, driver.previewOutputs(undefined, planned.inputs), reason);
        if (deleteBeforeReplace) {
            if (!(await this.engine.deleteResource(this.snapshot, old, false, "replaced (delete before replace)"))) {
                throw new Error("the delete before its replacement failed");
            }
        }
        const created = await this.create(driver, registration, planned);
        if (deleteBeforeReplace) this.snapshot.record(created);
        else this.snapshot.replace(old, created);
        return this.done("replace", created, reason);
    }

    /** Reports a completed step and answers the SDK with the resource's id and outputs. */
    private done(op: StepOp, resource: ResourceState, reason?: string): RegistrationResult {
        this.engine.step(op, resource, reason);
        return { ...(resource.id ? { id: resource.id } : {}), outputs: resource.outputs };
    }

    /** The step a registration of a resource with state takes. */
    private async decide(driver: Driver, registration: Registration, old: ResourceState, inputs: PropertyMap) {
        const trigger = registration.replacementTrigger;
        if (trigger !== undefined && !deepEqual(old.replacementTrigger, trigger)) {
            return { op: "replace" as const, reason: "replacementTrigger changed", deleteBeforeReplace: false };
        }
        return decideChange(await driver.diff(old, inputs), old.inputs, inputs, {
            replaceOnChanges: registration.replaceOnChanges,
            ...(registration.deleteBeforeReplace !== undefined
                ? { deleteBeforeReplace: registration.deleteBeforeReplace }
                : {}),
        });
    }

    /** Create, recording a partially initialized resource (the provider threw with an id) before failing. */
    private async create(driver: Driver, target: Registration, planned: ResourceState): Promise<ResourceState> {
        try {
            const { id, outputs } = await this.snapshot.pendingWhile({ urn: target.urn, type: "creating" }, () =>
                driver.create(target, planned.inputs),
            );
            return { ...planned, id, outputs };
        } catch (error) {
            if (error instanceof HostCallError && error.initFailure) {
                const { id, outputs, reasons } = error.initFailure;
                const marked = markSecretOutputs(
                    annotateSecrets(outputs, planned.inputs),
                    target.additionalSecretOutputs,
                );
                this.snapshot.record({ ...planned, id, outputs: marked });
                throw new Error([error.message, ...reasons].join("; "));
            }
            throw error;
        }
    }

    /** A preview step: recorded (in memory only) so that leftovers are known, answered with planned outputs. */
    private planned(op: StepOp, state: ResourceState, outputs: PropertyMap, reason?: string): RegistrationResult {
        const resource = { ...state, outputs };
        this.snapshot.record(resource);
        return this.done(op, resource, reason);
    }
}

/** The state a registration leads to, before its provider has produced outputs. */
function stateOf(registration: Registration, inputs: PropertyMap): ResourceState {
    return {
        urn: registration.urn,
        type: registration.type,
        custom: registration.custom,
        inputs,
        outputs: {},
        ...(registration.parent ? { parent: registration.parent } : {}),
        dependencies: registration.dependencies,
        ...(registration.provider ? { provider: registration.provider } : {}),
        ...(registration.additionalSecretOutputs.length > 0
            ? { additionalSecretOutputs: registration.additionalSecretOutputs }
            : {}),
        ...(registration.replacementTrigger !== undefined
            ? { replacementTrigger: registration.replacementTrigger }
            : {}),
        ...(registration.retainOnDelete ? { retainOnDelete: true } : {}),
    };
}

/** `ignoreChanges`: the engine keeps the old value of each ignored top-level input before Check. */
function withIgnoredChanges(news: PropertyMap, olds: PropertyMap | undefined, ignored: readonly string[]): PropertyMap {
    if (!olds || ignored.length === 0) return news;
    const result = { ...news };
    for (const key of ignored) {
        if (key.includes(".") || key.includes("[")) {
            throw new Error(`ignoreChanges path ${key}: the harness supports top-level properties only`);
        }
        if (key in olds) result[key] = olds[key]!;
        else delete result[key];
    }
    return result;
}
