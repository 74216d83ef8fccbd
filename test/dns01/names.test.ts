import { describe, expect, it } from "vitest";
import {
    authorizationName,
    challengeRecordName,
    groupDnsChallenges,
    isWildcard,
    longestMatchingZone,
    MAX_NAMES_PER_CERTIFICATE,
    normalizeDnsName,
    normalizeDnsNames,
    withoutTrailingDot,
} from "../../provider/dns01/names";

const WILDCARD_RULE = "a wildcard must be the whole leftmost label, e.g. *.example.com";

describe("normalizeDnsName", () => {
    const accepted: Array<[string, string, string]> = [
        ["A lower-case name is kept as it is", "example.com", "example.com"],
        ["Upper case is folded to lower case", "WWW.Example.COM", "www.example.com"],
        ["Surrounding whitespace is trimmed", "  example.com\t", "example.com"],
        ["One trailing dot is removed", "example.com.", "example.com"],
        ["An IDN becomes punycode", "Bücher.Example", "xn--bcher-kva.example"],
        ["Full-width letters are mapped to ASCII", "ｅｘａｍｐｌｅ.com", "example.com"],
        ["A wildcard as the whole leftmost label is valid", "*.Example.com.", "*.example.com"],
        ["A wildcard over an IDN keeps its star", "*.bücher.example", "*.xn--bcher-kva.example"],
        ["Hyphens and digits inside labels are valid", "a-1.b2-c.example", "a-1.b2-c.example"],
        ["A 63-character label is valid", `${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`],
        [
            "A name of exactly 253 characters is valid",
            `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
            `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
        ],
    ];
    it.each(accepted)("%s", (_case, input, name) => {
        expect(normalizeDnsName(input)).toEqual({ name });
    });

    const rejected: Array<[string, string, string]> = [
        ["An empty name is a problem", "", `"" is empty: give a DNS name such as "example.com"`],
        ["A name of only spaces is empty", "   ", `"   " is empty: give a DNS name such as "example.com"`],
        ["A lone dot is empty", ".", `"." is empty: give a DNS name such as "example.com"`],
        [
            "An IPv4 address is not a DNS identifier",
            "192.0.2.1",
            `"192.0.2.1" is an IP address; IP address identifiers are not supported: use a DNS name`,
        ],
        [
            "An IPv6 address is not a DNS identifier",
            "2001:db8::1",
            `"2001:db8::1" is an IP address; IP address identifiers are not supported: use a DNS name`,
        ],
        [
            "An IPv6 address in brackets is not a DNS identifier",
            "[::1]",
            `"[::1]" is an IP address; IP address identifiers are not supported: use a DNS name`,
        ],
        [
            "A URL is answered with its bare host name",
            "https://Example.com/path",
            `"https://Example.com/path" is not a bare host name: leave out the scheme, port and path, e.g. "example.com"`,
        ],
        [
            "A host with a port is answered with its bare host name",
            "example.com:443",
            `"example.com:443" is not a bare host name: leave out the scheme, port and path, e.g. "example.com"`,
        ],
        [
            "A host with a path is answered with its bare host name",
            "example.com/x",
            `"example.com/x" is not a bare host name: leave out the scheme, port and path, e.g. "example.com"`,
        ],
        [
            "A single-label name is rejected because public CAs reject it",
            "localhost",
            `"localhost" is a single-label name: public CAs reject those, give a fully qualified name such as "localhost.example.com"`,
        ],
        [
            "A wildcard over a single label is rejected too",
            "*.com",
            `"*.com" is a single-label name: public CAs reject those, give a fully qualified name such as "*.com.example.com"`,
        ],
        ["A wildcard in a middle label is rejected", "foo.*.example.com", `"foo.*.example.com": ${WILDCARD_RULE}`],
        ["A wildcard inside a label is rejected", "*foo.example.com", `"*foo.example.com": ${WILDCARD_RULE}`],
        ["Two wildcard labels are rejected", "*.*.example.com", `"*.*.example.com": ${WILDCARD_RULE}`],
        ["A lone star is rejected", "*", `"*": ${WILDCARD_RULE}`],
        [
            "An underscore is rejected in certificate names",
            "_acme-challenge.example.com",
            `"_acme-challenge.example.com" contains "_": underscores are not allowed in certificate names, use a hyphen or remove it`,
        ],
        [
            "A label starting with a hyphen is rejected",
            "-a.example.com",
            `"-a.example.com" has the label "-a": labels may only contain letters, digits and hyphens, and may not start or end with a hyphen`,
        ],
        [
            "A label ending with a hyphen is rejected",
            "a-.example.com",
            `"a-.example.com" has the label "a-": labels may only contain letters, digits and hyphens, and may not start or end with a hyphen`,
        ],
        [
            "A space inside the name is rejected",
            "exa mple.com",
            `"exa mple.com" has the label "exa mple": labels may only contain letters, digits and hyphens, and may not start or end with a hyphen`,
        ],
        [
            "Two dots in a row leave an empty label",
            "a..example.com",
            `"a..example.com" has an empty label: remove the extra dot`,
        ],
        [
            "Only one trailing dot is removed",
            "example.com..",
            `"example.com.." has an empty label: remove the extra dot`,
        ],
        [
            "A 64-character label is too long",
            `${"a".repeat(64)}.example`,
            `"${"a".repeat(64)}.example" has a label of 64 characters: a label may have at most 63`,
        ],
        [
            "A name of 254 characters is too long",
            `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`,
            `"${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}" is 254 characters long: a DNS name may have at most 253`,
        ],
        [
            "Invalid punycode is rejected as an IDN",
            "bücher.xn--zz",
            `"bücher.xn--zz" is not a valid internationalised domain name: check its spelling`,
        ],
    ];
    it.each(rejected)("%s", (_case, input, problem) => {
        expect(normalizeDnsName(input)).toEqual({ problem });
    });
});

describe("normalizeDnsNames", () => {
    const manyNames = (count: number) => Array.from({ length: count }, (_, i) => `n${i}.example.com`);
    const cases: Array<[string, unknown[], string[], string[]]> = [
        [
            "Valid names come back normalised in their order",
            ["WWW.example.com", "*.Example.com", "example.com"],
            ["www.example.com", "*.example.com", "example.com"],
            [],
        ],
        [
            "A duplicate after normalisation names both spellings",
            ["Example.com.", "www.example.com", "example.com"],
            ["example.com", "www.example.com"],
            [`"Example.com." and "example.com" are the same name after normalisation (example.com): list it once`],
        ],
        [
            "Each bad entry gets its own problem while good ones are kept",
            ["localhost", "example.com", "192.0.2.1"],
            ["example.com"],
            [
                `"localhost" is a single-label name: public CAs reject those, give a fully qualified name such as "localhost.example.com"`,
                `"192.0.2.1" is an IP address; IP address identifiers are not supported: use a DNS name`,
            ],
        ],
        [
            "A non-string entry is named by position and type",
            ["example.com", 42, null],
            ["example.com"],
            [
                `name 2 is number, not a string: give each name as a string such as "example.com"`,
                `name 3 is null, not a string: give each name as a string such as "example.com"`,
            ],
        ],
        ["An empty list is a problem", [], [], [`no names given: list at least one, e.g. ["example.com"]`]],
        ["Exactly the limit of names is accepted", manyNames(100), manyNames(100), []],
        [
            "One name over the limit is a problem naming the count and the limit",
            manyNames(101),
            manyNames(101),
            [`101 names given, but a certificate may hold at most 100: split them across several certificates`],
        ],
        [
            "Duplicates do not count towards the limit",
            [...manyNames(100), "n0.example.com"],
            manyNames(100),
            [
                `"n0.example.com" and "n0.example.com" are the same name after normalisation (n0.example.com): list it once`,
            ],
        ],
    ];
    it.each(cases)("%s", (_case, inputs, names, problems) => {
        expect(normalizeDnsNames(inputs as string[])).toEqual({ names, problems });
    });

    it("Uses the limit Let's Encrypt sets", () => {
        expect(MAX_NAMES_PER_CERTIFICATE).toBe(100);
    });
});

describe("wildcards and authorization names", () => {
    const cases: Array<[string, string, boolean, string, string]> = [
        [
            "A plain name is its own authorization name",
            "www.example.com",
            false,
            "www.example.com",
            "_acme-challenge.www.example.com",
        ],
        [
            "A wildcard is authorized for its base name",
            "*.example.com",
            true,
            "example.com",
            "_acme-challenge.example.com",
        ],
        [
            "A star that is not a label does not make a wildcard",
            "*example.com",
            false,
            "*example.com",
            "_acme-challenge.*example.com",
        ],
        [
            "A trailing dot is left out of the challenge record name",
            "example.com.",
            false,
            "example.com.",
            "_acme-challenge.example.com",
        ],
    ];
    it.each(cases)("%s", (_case, name, wildcard, authorization, record) => {
        expect(isWildcard(name)).toBe(wildcard);
        expect(authorizationName(name)).toBe(authorization);
        expect(challengeRecordName(name)).toBe(record);
    });
});

describe("withoutTrailingDot", () => {
    const cases: Array<[string, string, string]> = [
        ["A name without a trailing dot is unchanged", "example.com", "example.com"],
        ["One trailing dot is removed", "example.com.", "example.com"],
        ["Only one of two trailing dots is removed", "example.com..", "example.com."],
        ["The root becomes empty", ".", ""],
    ];
    it.each(cases)("%s", (_case, name, expected) => {
        expect(withoutTrailingDot(name)).toBe(expected);
    });
});

describe("longestMatchingZone", () => {
    const zones = ["example.com", "a.example.com.", "Other.TEST", "badexample.org"];
    const cases: Array<[string, string, string | undefined]> = [
        ["A zone apex matches its own zone", "example.com", "example.com"],
        ["A name below a zone matches it", "www.example.com", "example.com"],
        ["The longest of two enclosing zones wins", "x.a.example.com", "a.example.com."],
        ["A zone given with a trailing dot matches its apex", "a.example.com", "a.example.com."],
        ["A name with a trailing dot matches", "www.example.com.", "example.com"],
        ["Matching ignores case and returns the zone as spelled", "WWW.other.test", "Other.TEST"],
        ["A name that only ends with the zone's text does not match", "badexample.com", undefined],
        ["A zone below the name does not match", "org", undefined],
        ["A name in none of the zones matches nothing", "example.net", undefined],
    ];
    it.each(cases)("%s", (_case, name, zone) => {
        expect(longestMatchingZone(name, zones)).toBe(zone);
    });

    it("Accepts any iterable of zones", () => {
        expect(longestMatchingZone("www.example.com", new Set(["example.com"]))).toBe("example.com");
    });
});

describe("groupDnsChallenges", () => {
    const cases: Array<
        [string, Array<{ name: string; value: string }>, Array<{ recordName: string; values: string[] }>]
    > = [
        ["No entries make no records", [], []],
        [
            "Apex and wildcard share one record with both values",
            [
                { name: "example.com", value: "apex" },
                { name: "*.example.com", value: "wild" },
            ],
            [{ recordName: "_acme-challenge.example.com", values: ["apex", "wild"] }],
        ],
        [
            "Records keep the order in which their names first appear",
            [
                { name: "www.example.com", value: "w" },
                { name: "example.com", value: "a" },
                { name: "*.www.example.com", value: "ww" },
            ],
            [
                { recordName: "_acme-challenge.www.example.com", values: ["w", "ww"] },
                { recordName: "_acme-challenge.example.com", values: ["a"] },
            ],
        ],
        [
            "A value given twice for one record is listed once",
            [
                { name: "example.com", value: "same" },
                { name: "*.example.com", value: "same" },
            ],
            [{ recordName: "_acme-challenge.example.com", values: ["same"] }],
        ],
    ];
    it.each(cases)("%s", (_case, entries, records) => {
        expect(groupDnsChallenges(entries)).toEqual(records);
    });
});
