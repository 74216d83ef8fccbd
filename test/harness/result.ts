// The machine-readable result of a harness run (what `cli.ts --result` writes and `index.ts` returns).
import type { HostLine } from "./host";
import { isObject, isSecret, mapValues, type PropertyMap, type PropertyValue } from "./values";

export type Command = "up" | "preview" | "refresh" | "destroy";

/** What happened to one resource (in a preview: what would happen). */
export type StepOp =
    | "create"
    | "update"
    | "replace"
    | "same"
    | "delete"
    | "refresh-same"
    | "refresh-drift"
    | "refresh-delete";

export interface Step {
    op: StepOp;
    urn: string;
    type: string;
    /** The resource name (the last part of the URN). */
    name: string;
    /**
     * Why, when known: `diff: ~label` (changed inputs), `replace: generation` (keys the provider or options said
     * force a replacement), `replaced` for the delete of a replaced resource, `not in program` for a removal.
     */
    reason?: string;
}

/** A stack output: plain JSON, secrets as `{secret: value}`; unknown values (previews) as the UNKNOWN sentinel. */
export type OutputValue = PropertyValue;

export interface RunResult {
    command: Command;
    ok: boolean;
    /** In execution order: a create-before-delete replacement shows `replace` first and its `delete` at the end. */
    steps: Step[];
    outputs: Record<string, OutputValue>;
    /** The provider host's stdout/stderr lines (the engine shows them as info/infoerr diagnostics). */
    diagnostics: HostLine[];
    /** The harness's own warnings (e.g. pending operations dropped from a crashed run). */
    warnings: string[];
    /** Refresh found drift or deleted resources: what `pulumi refresh --expect-no-changes` fails on. */
    driftDetected: boolean;
    /** Set when the run failed: `<urn>: <message>` as the engine shows it (Check failures: `property <p>: <reason>`). */
    error?: { message: string; urn?: string };
}

/** Stack outputs for the result: secret wrappers become `{secret: value}`. */
export function outputsForResult(outputs: PropertyMap): Record<string, OutputValue> {
    return mapValues(outputs, (value) => (isSecret(value) ? { secret: value.value } : value)) as Record<
        string,
        OutputValue
    >;
}

/** True for a `{secret: value}` stack output. */
export function isSecretOutput(value: OutputValue | undefined): value is { secret: PropertyValue } {
    return isObject(value) && Object.keys(value).length === 1 && "secret" in value;
}
