// The state of a stack while a run changes it: what was there before, what this run has written so far, replaced
// resources waiting for their deletion, and operations in flight. Every change can be persisted at once, so the
// state file always tells the truth about what has been done.
import { type PendingOperation, type ResourceState, type StackState, writeState } from "./state";

export class Snapshot {
    private readonly base: Map<string, ResourceState>;
    private readonly written = new Map<string, ResourceState>();
    private readonly replaced: ResourceState[];
    private readonly pending: PendingOperation[] = [];

    /** `stateFile` undefined: a preview, which never writes. */
    constructor(
        private readonly state: StackState,
        private readonly stateFile: string | undefined,
    ) {
        this.base = new Map(state.resources.filter((r) => !r.delete).map((r) => [r.urn, r]));
        this.replaced = state.resources.filter((r) => r.delete);
    }

    get project(): string {
        return this.state.project;
    }

    get stack(): string {
        return this.state.stack;
    }

    /** The resource as the previous run left it (replaced resources excluded). */
    old(urn: string): ResourceState | undefined {
        return this.base.get(urn);
    }

    /** The resource as it is now: written by this run, or else as before. */
    current(urn: string): ResourceState | undefined {
        return this.written.get(urn) ?? this.base.get(urn);
    }

    /** Records the new state of a resource (created, updated, kept or refreshed in this run). */
    record(resource: ResourceState): void {
        this.written.set(resource.urn, resource);
        this.persist();
    }

    /**
     * Records the replacement of `old` by `replacement` (create-before-delete): the old one stays, marked for
     * deletion, until the end of the run deletes it. One write, so no crash can lose either.
     */
    replace(old: ResourceState, replacement: ResourceState): void {
        this.replaced.push({ ...old, delete: true });
        this.written.set(replacement.urn, replacement);
        this.persist();
    }

    /** Removes a resource that was deleted (or found gone by a refresh). */
    remove(resource: ResourceState): void {
        if (resource.delete) {
            this.replaced.splice(this.replaced.indexOf(resource), 1);
        } else {
            this.written.delete(resource.urn);
            this.base.delete(resource.urn);
        }
        this.persist();
    }

    /** Resources of the previous state this run did not register again, and replaced ones: what is left to delete. */
    leftovers(): ResourceState[] {
        return [...[...this.base.values()].filter((r) => !this.written.has(r.urn)), ...this.replaced];
    }

    /** Every resource now in the stack, in the order the file lists them. */
    resources(): ResourceState[] {
        const kept = [...this.base.values()].filter((r) => !this.written.has(r.urn));
        return [...this.written.values(), ...kept, ...this.replaced];
    }

    /**
     * Runs `operation` recorded as pending, so a crash in the middle leaves a trace in the state file. On success
     * the caller records the outcome (record/remove), which persists the end of the operation with it.
     */
    async pendingWhile<T>(operation: PendingOperation, run: () => Promise<T>): Promise<T> {
        this.pending.push(operation);
        this.persist();
        const finish = () => this.pending.splice(this.pending.indexOf(operation), 1);
        try {
            const result = await run();
            finish();
            return result;
        } catch (error) {
            finish();
            this.persist();
            throw error;
        }
    }

    persist(): void {
        if (!this.stateFile) return;
        const { project, stack } = this.state;
        writeState(this.stateFile, { project, stack, resources: this.resources(), pendingOperations: this.pending });
    }
}
