// Summaries of repeated measurements, and the clock every part of the bench (and the CA proxy) measures by.

/** Epoch milliseconds with sub-millisecond resolution: the clock test/stack/caProxy.ts stamps requests with. */
export function epochNow(): number {
    return performance.timeOrigin + performance.now();
}

export interface Summary {
    median: number;
    min: number;
    max: number;
    n: number;
}

export function summarize(samples: readonly number[]): Summary {
    if (samples.length === 0) throw new Error("no samples to summarize");
    const sorted = [...samples].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** "0.152 s (0.140–0.171)", or milliseconds when every sample is below a second. */
export function formatDuration(summary: Summary): string {
    const inSeconds = summary.max >= 1000;
    const show = (ms: number) => (inSeconds ? (ms / 1000).toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
    const unit = inSeconds ? "s" : "ms";
    if (summary.n === 1) return `${show(summary.median)} ${unit}`;
    return `${show(summary.median)} ${unit} (${show(summary.min)}–${show(summary.max)})`;
}

/** "8 (8–9)": counts, with their range when they varied. */
export function formatCount(summary: Summary): string {
    const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
    return summary.min === summary.max
        ? round(summary.median)
        : `${round(summary.median)} (${summary.min}–${summary.max})`;
}

export function formatRatio(ours: number, theirs: number): string {
    return `${(ours / theirs).toFixed(3)}×`;
}
