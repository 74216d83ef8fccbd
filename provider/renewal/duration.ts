// Durations as users write them in Pulumi programs and stack config: "30d", "720h", "1h30m", "90s".

const UNIT_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
const DURATION = /^(?:\d+[dhms])+$/;
const PART = /(\d+)([dhms])/g;

/** Parses a positive duration string into seconds, or says what is wrong with it. */
export function parseDuration(text: unknown): { seconds: number } | { problem: string } {
    if (typeof text !== "string" || !DURATION.test(text.trim())) {
        return {
            problem: `${JSON.stringify(text)} is not a duration: write a whole number with a unit d, h, m or s, e.g. "30d", "720h" or "1h30m"`,
        };
    }
    let seconds = 0;
    for (const [, amount, unit] of text.trim().matchAll(PART)) seconds += Number(amount) * UNIT_SECONDS[unit!]!;
    if (seconds <= 0) return { problem: `${JSON.stringify(text)} is zero: give a positive duration such as "30d"` };
    return { seconds };
}

/** The shortest exact spelling of a number of seconds, e.g. 5400 → "1h30m", 2592000 → "30d". */
export function formatDuration(totalSeconds: number): string {
    let rest = Math.round(totalSeconds);
    if (rest <= 0) return "0s";
    let text = "";
    for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
        const amount = Math.floor(rest / size);
        if (amount > 0) text += `${amount}${unit}`;
        rest -= amount * size;
    }
    return text;
}
