// The engine's step decisions (pkg/resource/deploy/step_generator.go at v3.248.0), written down once: from a
// provider's Diff answer and the old and new inputs to same, update or replace; and refresh's inverted diff.
import type { ProviderDiff } from "./host";
import { deepEqual, type PropertyMap, valueAt } from "./values";

/** What the engine does with a resource that is in the old state and registered again. */
export type ChangeDecision =
    | { op: "same" }
    | { op: "update"; reason: string }
    | { op: "replace"; reason: string; deleteBeforeReplace: boolean };

/**
 * Decides the step for a registered resource that already has state.
 *
 * - DIFF_NONE is `same`, whatever the inputs say.
 * - DIFF_SOME replaces only when the provider names replace keys or `replaceOnChanges` matches a changed input;
 *   otherwise it updates. (`changes: false` with replace keys is ignored, as in the engine.)
 * - DIFF_UNKNOWN (no diff() in the provider) falls back to comparing old and new inputs, `__provider` included.
 * - `deleteBeforeReplace` from the resource option wins over the provider's.
 */
export function decideChange(
    diff: ProviderDiff,
    oldInputs: PropertyMap,
    newInputs: PropertyMap,
    options: { replaceOnChanges?: readonly string[]; deleteBeforeReplace?: boolean } = {},
): ChangeDecision {
    const changed = changedKeys(oldInputs, newInputs);
    if (diff.changes === "none") return { op: "same" };
    if (diff.changes === "unknown" && changed.length === 0) return { op: "same" };
    const replaceOnChanges = (options.replaceOnChanges ?? []).filter(
        (path) => path === "*" || !deepEqual(valueAt(oldInputs, path), valueAt(newInputs, path)),
    );
    const replaceKeys = [...diff.replaces, ...replaceOnChanges];
    const summary = describeDiff(oldInputs, newInputs);
    if (replaceKeys.length === 0) return { op: "update", reason: summary };
    return {
        op: "replace",
        reason: [summary, `replace: ${[...new Set(replaceKeys)].join(", ")}`].filter(Boolean).join("; "),
        deleteBeforeReplace: options.deleteBeforeReplace ?? diff.deleteBeforeReplace,
    };
}

/** A provider-style diff from a table of replace-on-change input paths (for providers we emulate). */
export function diffByInputs(
    oldInputs: PropertyMap,
    newInputs: PropertyMap,
    replacePaths: readonly string[],
): ProviderDiff {
    const changes = changedKeys(oldInputs, newInputs).length > 0 ? "some" : "none";
    const replaces = replacePaths.filter((path) => !deepEqual(valueAt(oldInputs, path), valueAt(newInputs, path)));
    return { changes, replaces, deleteBeforeReplace: false };
}

/**
 * Refresh compares with the diff inverted: olds = the freshly read outputs, news = the old inputs. A change means
 * the world drifted from what the program asked for (what `pulumi refresh --expect-no-changes` fails on).
 * DIFF_UNKNOWN falls back to comparing the old and refreshed outputs.
 */
export function refreshDrifted(invertedDiff: ProviderDiff, oldOutputs: PropertyMap, readOutputs: PropertyMap): boolean {
    if (invertedDiff.changes === "unknown") return changedKeys(oldOutputs, readOutputs).length > 0;
    return invertedDiff.changes === "some";
}

/** Top-level keys whose values differ, `__`-internal keys included. */
export function changedKeys(olds: PropertyMap, news: PropertyMap): string[] {
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    return [...keys].filter((key) => !deepEqual(olds[key], news[key])).sort();
}

/**
 * The `[diff: …]` summary of the display: `+added ~changed -removed` top-level inputs, internal `__` keys hidden
 * (so a replacement forced by the provider with no input change shows an empty diff, as in Pulumi).
 */
export function describeDiff(olds: PropertyMap, news: PropertyMap): string {
    const marks = changedKeys(olds, news)
        .filter((key) => !key.startsWith("__"))
        .map((key) => (!(key in olds) ? `+${key}` : !(key in news) ? `-${key}` : `~${key}`));
    return marks.length > 0 ? `diff: ${marks.join(" ")}` : "";
}
