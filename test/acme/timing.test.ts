import { describe, expect, it } from "vitest";
import { type AcmeTiming, DEFAULT_TIMING, nextPollDelay, nextStep, parseRetryAfter } from "../../provider/acme/timing";

const NOW = Date.parse("2027-03-01T12:00:00Z");
const timing: AcmeTiming = { ...DEFAULT_TIMING, now: () => NOW };

describe("nextStep", () => {
    const cases: Array<[string, number, number | null, ReturnType<typeof nextStep>]> = [
        [
            "The first retry waits one second when the CA sends no Retry-After",
            1,
            null,
            { kind: "retry", delayMs: 1000 },
        ],
        ["The second retry waits two seconds", 2, null, { kind: "retry", delayMs: 2000 }],
        ["The third retry waits four seconds", 3, null, { kind: "retry", delayMs: 4000 }],
        ["After the fourth attempt it gives up", 4, null, { kind: "giveUp" }],
        ["A Retry-After of one second sets the delay", 1, 1000, { kind: "retry", delayMs: 1000 }],
        ["A Retry-After shorter than the backoff is still what is waited", 3, 0, { kind: "retry", delayMs: 0 }],
        ["A Retry-After of exactly the ceiling is waited", 1, 60_000, { kind: "retry", delayMs: 60_000 }],
        [
            "A Retry-After beyond the ceiling fails at once, saying until when",
            1,
            3_600_000,
            { kind: "waitTooLong", retryAt: new Date(NOW + 3_600_000) },
        ],
        [
            "A Retry-After beyond the ceiling on the last attempt still says until when",
            4,
            120_000,
            { kind: "waitTooLong", retryAt: new Date(NOW + 120_000) },
        ],
    ];
    it.each(cases)("%s", (_name, attempt, retryAfterMs, expected) => {
        expect(nextStep(attempt, retryAfterMs, timing)).toEqual(expected);
    });
});

describe("parseRetryAfter", () => {
    const cases: Array<[string, unknown, number | null]> = [
        ["Seconds are read as seconds", "120", 120_000],
        ["Zero seconds means retry now", "0", 0],
        ["Whitespace around the seconds is ignored", " 3 ", 3000],
        ["An HTTP date in the future is the time until then", "Mon, 01 Mar 2027 12:01:30 GMT", 90_000],
        ["An HTTP date in the past means retry now", "Mon, 01 Mar 2027 11:00:00 GMT", 0],
        ["A missing header gives no delay", undefined, null],
        ["An empty header gives no delay", "", null],
        ["Negative seconds are not a delay", "-5", null],
        ["Fractional seconds are not a delay", "1.5", null],
        ["Text that is neither seconds nor a date gives no delay", "soon", null],
    ];
    it.each(cases)("%s", (_name, header, expected) => {
        expect(parseRetryAfter(header, NOW)).toBe(expected);
    });
});

describe("nextPollDelay", () => {
    it("doubles from 10 ms and stays at the 3 s ceiling", () => {
        const delays = [DEFAULT_TIMING.firstPollDelayMs];
        while (delays.length < 10) delays.push(nextPollDelay(delays.at(-1)!, DEFAULT_TIMING));
        expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3000]);
    });
});
