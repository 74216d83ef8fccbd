// The human-readable side of a run, shaped like Pulumi's display: one line per step, a summary, the outputs.
import type { Command, OutputValue, RunResult, Step, StepOp } from "./result";
import { isSecretOutput } from "./result";
import { UNKNOWN } from "./values";

const SYMBOLS: Record<StepOp, string> = {
    create: "+",
    update: "~",
    replace: "+-",
    same: " ",
    delete: "-",
    "refresh-same": " ",
    "refresh-drift": "~",
    "refresh-delete": "-",
};

/** One line per step: `+ create <type> <name>`, `~ update <type> <name> [diff: ~label]`. */
export function formatStep(step: Step): string {
    return `${SYMBOLS[step.op].padEnd(2)} ${step.op} ${step.type} ${step.name}${step.reason ? ` [${step.reason}]` : ""}`;
}

/** Counts per operation, worded for a preview ("to create") or a run ("created"). */
export function formatSummary(command: Command, steps: readonly Step[]): string {
    const counts = new Map<StepOp, number>();
    for (const step of steps) counts.set(step.op, (counts.get(step.op) ?? 0) + 1);
    const parts = [...counts].map(([op, count]) => `${SYMBOLS[op].trim() || "="} ${count} ${op}`);
    const heading = command === "preview" ? "Resources (planned)" : "Resources";
    return `${heading}: ${parts.length > 0 ? parts.join(", ") : "no steps"}`;
}

export function formatOutputs(outputs: Record<string, OutputValue>): string {
    const names = Object.keys(outputs).sort();
    if (names.length === 0) return "";
    const shown = (value: OutputValue) =>
        isSecretOutput(value) ? "[secret]" : value === UNKNOWN ? "[unknown]" : JSON.stringify(value);
    return ["Outputs:", ...names.map((name) => `    ${name}: ${shown(outputs[name]!)}`)].join("\n");
}

/** The closing block of a run: diagnostics, summary, outputs and the error. */
export function formatResult(result: RunResult): string {
    const lines: string[] = [];
    if (result.diagnostics.length > 0) {
        lines.push("Diagnostics (provider host):", ...result.diagnostics.map((d) => `    ${d.stream}: ${d.line}`));
    }
    for (const warning of result.warnings) lines.push(`warning: ${warning}`);
    lines.push(formatSummary(result.command, result.steps));
    const outputs = formatOutputs(result.outputs);
    if (outputs) lines.push(outputs);
    if (result.driftDetected) lines.push("Refresh found drift.");
    if (result.error) lines.push(`error: ${result.error.message}`);
    return lines.join("\n");
}
