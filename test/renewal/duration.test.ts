import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../provider/renewal/duration";

const HOUR = 3600;
const DAY = 86400;
const notADuration = (shown: string) =>
    `${shown} is not a duration: write a whole number with a unit d, h, m or s, e.g. "30d", "720h" or "1h30m"`;

describe("parseDuration", () => {
    const good: Array<[string, string, number]> = [
        ["Days are 86400 seconds each", "30d", 30 * DAY],
        ["Hours are 3600 seconds each", "720h", 720 * HOUR],
        ["Units combine", "1h30m", HOUR + 30 * 60],
        ["Seconds stand alone", "90s", 90],
        ["Every unit combines in one string", "1d2h3m4s", DAY + 2 * HOUR + 3 * 60 + 4],
        ["Surrounding white space is ignored", " 30d\n", 30 * DAY],
        ["A zero part is fine when the total is positive", "0d1h", HOUR],
    ];
    it.each(good)("%s: %j", (_name, text, seconds) => {
        expect(parseDuration(text)).toEqual({ seconds });
    });

    const bad: Array<[string, unknown, string]> = [
        ["Zero days are not a positive duration", "0d", '"0d" is zero: give a positive duration such as "30d"'],
        ["A negative duration is not a duration", "-1d", notADuration('"-1d"')],
        ["A fraction is not a whole number", "1.5d", notADuration('"1.5d"')],
        ["A unit spelled out is not a unit", "30 days", notADuration('"30 days"')],
        ["A number without a unit is not a duration", "30", notADuration('"30"')],
        ["An upper-case unit is not a unit", "30D", notADuration('"30D"')],
        ["An empty string is not a duration", "", notADuration('""')],
        ["A number is not a duration string", 30, notADuration("30")],
        ["undefined is not a duration", undefined, notADuration("undefined")],
        ["null is not a duration", null, notADuration("null")],
    ];
    it.each(bad)("%s", (_name, text, problem) => {
        expect(parseDuration(text)).toEqual({ problem });
    });
});

describe("formatDuration", () => {
    const cases: Array<[string, number, string]> = [
        ["Whole days are written in days", 30 * DAY, "30d"],
        ["720 hours are 30 days", 720 * HOUR, "30d"],
        ["Mixed units are written largest first", HOUR + 30 * 60, "1h30m"],
        ["90 seconds are a minute and a half", 90, "1m30s"],
        ["Every unit appears when needed", DAY + 2 * HOUR + 3 * 60 + 4, "1d2h3m4s"],
        ["Units that are zero are left out", DAY + 5, "1d5s"],
        ["Fractions of a second are rounded", 59.6, "1m"],
        ["Zero is 0s", 0, "0s"],
        ["A negative number is 0s", -5, "0s"],
    ];
    it.each(cases)("%s", (_name, seconds, text) => {
        expect(formatDuration(seconds)).toBe(text);
    });

    it.each(["30d", "720h", "1h30m", "90s", "1d2h3m4s", "45d", "160h"])(
        "round-trips %j through parseDuration",
        (text) => {
            const parsed = parseDuration(text) as { seconds: number };
            expect(parseDuration(formatDuration(parsed.seconds))).toEqual(parsed);
        },
    );

    it.each(["30d", "1h30m", "1d2h3m4s", "5m"])("writes %j, already in shortest form, back unchanged", (text) => {
        expect(formatDuration((parseDuration(text) as { seconds: number }).seconds)).toBe(text);
    });
});
