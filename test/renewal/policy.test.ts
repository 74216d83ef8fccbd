import { describe, expect, it } from "vitest";
import {
    defaultRenewBeforeSeconds,
    lifetimeSeconds,
    renewAt,
    renewalDecision,
    renewBeforeProblem,
    type Validity,
} from "../../provider/renewal/policy";

const HOUR = 3600;
const DAY = 86400;
const NOT_BEFORE = "2027-01-01T00:00:00.000Z";

/** A certificate valid from NOT_BEFORE for `seconds`. */
function validFor(seconds: number): Validity {
    return { notBefore: NOT_BEFORE, notAfter: new Date(Date.parse(NOT_BEFORE) + seconds * 1000).toISOString() };
}

describe("the default policy", () => {
    const cases: Array<[string, number, number, string]> = [
        [
            "A 90-day certificate renews a third before expiry, at day 60",
            90 * DAY,
            30 * DAY,
            "2027-03-02T00:00:00.000Z",
        ],
        [
            "A certificate of 90 days less a second (as Let's Encrypt and Pebble issue them) renews just before day 60",
            90 * DAY - 1,
            (90 * DAY - 1) / 3,
            "2027-03-01T23:59:59.333Z",
        ],
        ["A 64-day certificate renews 21⅓ days before expiry", 64 * DAY, (64 * DAY) / 3, "2027-02-12T16:00:00.000Z"],
        [
            "A 45-day certificate renews 15 days before expiry, at day 30",
            45 * DAY,
            15 * DAY,
            "2027-01-31T00:00:00.000Z",
        ],
        [
            "A certificate just over 10 days still renews a third before expiry",
            10 * DAY + 3,
            (10 * DAY + 3) / 3,
            "2027-01-07T16:00:02.000Z",
        ],
        ["A certificate of exactly 10 days renews at half its life", 10 * DAY, 5 * DAY, "2027-01-06T00:00:00.000Z"],
        ["A 7-day certificate renews at half its life", 7 * DAY, 3.5 * DAY, "2027-01-04T12:00:00.000Z"],
        [
            "A 6-day shortlived certificate (160 hours, as Let's Encrypt issues them) renews at half its life",
            160 * HOUR,
            80 * HOUR,
            "2027-01-04T08:00:00.000Z",
        ],
        ["A 6-day certificate of exactly 6 days renews at day 3", 6 * DAY, 3 * DAY, "2027-01-04T00:00:00.000Z"],
    ];
    it.each(cases)("%s", (_name, lifetime, renewBefore, expectedRenewAt) => {
        const validity = validFor(lifetime);
        expect(lifetimeSeconds(validity)).toBe(lifetime);
        expect(defaultRenewBeforeSeconds(lifetime)).toBeCloseTo(renewBefore, 6);
        expect(renewAt(validity)).toBe(expectedRenewAt);
        expect(renewAt(validity, null)).toBe(expectedRenewAt);
    });
});

describe("an explicit renewBefore", () => {
    const cases: Array<[string, number, number, string]> = [
        ["7 days before a 90-day certificate's expiry is day 83", 90 * DAY, 7 * DAY, "2027-03-25T00:00:00.000Z"],
        [
            "30 days before a 90-day certificate's expiry matches the default",
            90 * DAY,
            30 * DAY,
            "2027-03-02T00:00:00.000Z",
        ],
        [
            "One hour before a 6-day certificate's expiry overrides half its life",
            6 * DAY,
            HOUR,
            "2027-01-06T23:00:00.000Z",
        ],
        ["Zero means at expiry", 90 * DAY, 0, "2027-04-01T00:00:00.000Z"],
    ];
    it.each(cases)("%s", (_name, lifetime, renewBefore, expectedRenewAt) => {
        expect(renewAt(validFor(lifetime), renewBefore)).toBe(expectedRenewAt);
    });
});

describe("renewalDecision", () => {
    const ninetyDays = validFor(90 * DAY);
    const at = (iso: string) => Date.parse(iso);
    const cases: Array<[string, number, number | undefined, { due: boolean; reason: string; message: string }]> = [
        [
            "A fresh certificate is not due",
            at(NOT_BEFORE),
            undefined,
            { due: false, reason: "NotDue", message: "renewal due at 2027-03-02T00:00:00.000Z" },
        ],
        [
            "One millisecond before renewAt it is not due yet",
            at("2027-03-02T00:00:00.000Z") - 1,
            undefined,
            { due: false, reason: "NotDue", message: "renewal due at 2027-03-02T00:00:00.000Z" },
        ],
        [
            "Exactly at renewAt it renews",
            at("2027-03-02T00:00:00.000Z"),
            undefined,
            {
                due: true,
                reason: "Renewing",
                message: `expires at ${ninetyDays.notAfter}; renewal was due at 2027-03-02T00:00:00.000Z: renewing`,
            },
        ],
        [
            "One millisecond after renewAt it renews",
            at("2027-03-02T00:00:00.000Z") + 1,
            undefined,
            {
                due: true,
                reason: "Renewing",
                message: `expires at ${ninetyDays.notAfter}; renewal was due at 2027-03-02T00:00:00.000Z: renewing`,
            },
        ],
        [
            "One millisecond before notAfter it is still renewing, not expired",
            at(ninetyDays.notAfter) - 1,
            undefined,
            {
                due: true,
                reason: "Renewing",
                message: `expires at ${ninetyDays.notAfter}; renewal was due at 2027-03-02T00:00:00.000Z: renewing`,
            },
        ],
        [
            "Exactly at notAfter it counts as expired",
            at(ninetyDays.notAfter),
            undefined,
            { due: true, reason: "Expired", message: `expired at ${ninetyDays.notAfter}: renewing` },
        ],
        [
            "One millisecond after notAfter it is expired",
            at(ninetyDays.notAfter) + 1,
            undefined,
            { due: true, reason: "Expired", message: `expired at ${ninetyDays.notAfter}: renewing` },
        ],
        [
            "With renewBefore 7 days, day 82 is not due",
            at("2027-03-24T00:00:00.000Z"),
            7 * DAY,
            { due: false, reason: "NotDue", message: "renewal due at 2027-03-25T00:00:00.000Z" },
        ],
        [
            "With renewBefore 7 days, day 83 renews",
            at("2027-03-25T00:00:00.000Z"),
            7 * DAY,
            {
                due: true,
                reason: "Renewing",
                message: `expires at ${ninetyDays.notAfter}; renewal was due at 2027-03-25T00:00:00.000Z: renewing`,
            },
        ],
    ];
    it.each(cases)("%s", (_name, now, renewBeforeSeconds, expected) => {
        const decision = renewalDecision(ninetyDays, { renewBeforeSeconds, now });
        expect(decision).toEqual({ ...expected, renewAt: renewAt(ninetyDays, renewBeforeSeconds) });
    });
});

describe("renewBeforeProblem", () => {
    const cases: Array<[string, number, number, string | undefined]> = [
        ["30 days on a 90-day certificate is fine", 30 * DAY, 90 * DAY, undefined],
        ["One second below the lifetime is fine", 90 * DAY - 1, 90 * DAY, undefined],
        [
            "Exactly the lifetime would renew on every run",
            90 * DAY,
            90 * DAY,
            `renewBefore 90d is not shorter than the certificate's lifetime (90d), so it would renew on every run: use a value below 90d, e.g. "30d", or leave renewBefore unset`,
        ],
        [
            "More than the lifetime would renew on every run",
            30 * DAY,
            160 * HOUR,
            `renewBefore 30d is not shorter than the certificate's lifetime (6d16h), so it would renew on every run: use a value below 6d16h, e.g. "3d8h", or leave renewBefore unset`,
        ],
        [
            "The lifetime of a Let's Encrypt certificate is spelled to the second",
            90 * DAY,
            90 * DAY - 1,
            `renewBefore 90d is not shorter than the certificate's lifetime (89d23h59m59s), so it would renew on every run: use a value below 89d23h59m59s, e.g. "30d", or leave renewBefore unset`,
        ],
    ];
    it.each(cases)("%s", (_name, renewBefore, lifetime, problem) => {
        expect(renewBeforeProblem(renewBefore, validFor(lifetime))).toBe(problem);
    });
});
