import { describe, expect, it } from "vitest";
import {
    AcmeErrorType,
    type AcmeProblem,
    AcmeProblemError,
    isAcmeProblem,
    isRetryable,
    problemFromResponse,
    problemMessage,
} from "../../provider/acme/errors";

const request = { method: "POST", url: "https://ca.example/acme/new-order" };
const problemError = (problem: AcmeProblem, options: { retryAfter?: Date; cause?: unknown } = {}) =>
    new AcmeProblemError("Unable to test", problem, request, options);
const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000);

describe("isRetryable", () => {
    const cases: Array<[string, unknown, boolean]> = [
        [
            "A badNonce problem is retryable",
            problemError({ type: AcmeErrorType.badNonce, detail: "", status: 400 }),
            true,
        ],
        [
            "A 429 whose Retry-After is a few seconds away is retryable",
            problemError({ type: AcmeErrorType.rateLimited, detail: "", status: 429 }, { retryAfter: inSeconds(5) }),
            true,
        ],
        [
            "A 429 whose Retry-After is an hour away is not",
            problemError({ type: AcmeErrorType.rateLimited, detail: "", status: 429 }, { retryAfter: inSeconds(3600) }),
            false,
        ],
        [
            "A rateLimited problem without a Retry-After is not",
            problemError({ type: AcmeErrorType.rateLimited, detail: "", status: 429 }),
            false,
        ],
        [
            "A serverInternal 500 is retryable",
            problemError({ type: AcmeErrorType.serverInternal, detail: "", status: 500 }),
            true,
        ],
        ["An untyped 503 is retryable", problemFromResponseError(503), true],
        [
            "An unauthorized 403 is terminal",
            problemError({ type: AcmeErrorType.unauthorized, detail: "", status: 403 }),
            false,
        ],
        [
            "A rejectedIdentifier 400 is terminal",
            problemError({ type: AcmeErrorType.rejectedIdentifier, detail: "", status: 400 }),
            false,
        ],
        [
            "A transport failure caused by a reset connection is retryable",
            problemError({ type: "about:blank", detail: "" }, { cause: networkError("ECONNRESET") }),
            true,
        ],
        [
            "A transport failure caused by an untrusted certificate is not",
            problemError({ type: "about:blank", detail: "" }, { cause: networkError("DEPTH_ZERO_SELF_SIGNED_CERT") }),
            false,
        ],
        ["A bare ECONNREFUSED is retryable", networkError("ECONNREFUSED"), true],
        ["A bare ETIMEDOUT is retryable", networkError("ETIMEDOUT"), true],
        ["A name that does not resolve is not", networkError("ENOTFOUND"), false],
        ["An Error without a code is not", new Error("boom"), false],
        ["Something that is not an Error is not", "ECONNRESET", false],
    ];
    it.each(cases)("%s", (_name, error, expected) => {
        expect(isRetryable(error)).toBe(expected);
    });
});

function problemFromResponseError(status: number): AcmeProblemError {
    return problemError(problemFromResponse(status, "<html>Service Unavailable</html>"));
}

describe("isAcmeProblem", () => {
    const unauthorized = problemError({ type: AcmeErrorType.unauthorized, detail: "no" });
    const cases: Array<[string, unknown, string | undefined, boolean]> = [
        ["An AcmeProblemError is one when no type is asked for", unauthorized, undefined, true],
        ["An AcmeProblemError of the type asked for is one", unauthorized, AcmeErrorType.unauthorized, true],
        ["An AcmeProblemError of another type is not", unauthorized, AcmeErrorType.badNonce, false],
        [
            "An error that only looks like one (same name and problem) is not",
            Object.assign(new Error("x"), { name: "AcmeProblemError", problem: { type: "t", detail: "" } }),
            undefined,
            false,
        ],
        ["null is not", null, undefined, false],
    ];
    it.each(cases)("%s", (_name, error, type, expected) => {
        expect(isAcmeProblem(error, type)).toBe(expected);
    });
});

describe("problemFromResponse", () => {
    const cases: Array<[string, number, unknown, AcmeProblem]> = [
        [
            "A problem document is kept, with only the members AcmeProblem has",
            403,
            { type: AcmeErrorType.unauthorized, detail: "No", status: 403, instance: "https://x", extra: 1 },
            { type: AcmeErrorType.unauthorized, detail: "No", status: 403 },
        ],
        [
            "A problem document without a status gets the response's",
            400,
            { type: AcmeErrorType.malformed, detail: "bad JWS" },
            { type: AcmeErrorType.malformed, detail: "bad JWS", status: 400 },
        ],
        [
            "Subproblems keep their identifiers",
            400,
            {
                type: AcmeErrorType.rejectedIdentifier,
                detail: "Some names were rejected",
                subproblems: [
                    {
                        type: AcmeErrorType.rejectedIdentifier,
                        detail: "forbidden",
                        identifier: { type: "dns", value: "a.test" },
                    },
                ],
            },
            {
                type: AcmeErrorType.rejectedIdentifier,
                detail: "Some names were rejected",
                status: 400,
                subproblems: [
                    {
                        type: AcmeErrorType.rejectedIdentifier,
                        detail: "forbidden",
                        identifier: { type: "dns", value: "a.test" },
                    },
                ],
            },
        ],
        [
            "An HTML error page becomes an untyped problem naming the status",
            502,
            "<html>Bad Gateway</html>",
            { type: "about:blank", detail: "HTTP 502 Bad Gateway", status: 502 },
        ],
        [
            "An empty body becomes an untyped problem naming the status",
            503,
            "",
            { type: "about:blank", detail: "HTTP 503 Service Unavailable", status: 503 },
        ],
    ];
    it.each(cases)("%s", (_name, status, body, expected) => {
        expect(problemFromResponse(status, body)).toEqual(expected);
    });
});

describe("problemMessage", () => {
    const cases: Array<[string, string, AcmeProblem, string]> = [
        [
            "A typed problem reads: Unable to <action>: <detail> (<type>)",
            "create an order for a.test",
            { type: AcmeErrorType.rejectedIdentifier, detail: "Forbidden name" },
            "Unable to create an order for a.test: Forbidden name (urn:ietf:params:acme:error:rejectedIdentifier)",
        ],
        [
            "An untyped problem leaves the type out",
            "read the CA's directory",
            { type: "about:blank", detail: "HTTP 503 Service Unavailable" },
            "Unable to read the CA's directory: HTTP 503 Service Unavailable",
        ],
        [
            "Each subproblem follows with its identifier",
            "create an order for a.test, b.test",
            {
                type: AcmeErrorType.rejectedIdentifier,
                detail: "2 names rejected",
                subproblems: [
                    {
                        type: AcmeErrorType.rejectedIdentifier,
                        detail: "no",
                        identifier: { type: "dns", value: "a.test" },
                    },
                    { type: AcmeErrorType.malformed, detail: "bad", identifier: { type: "dns", value: "b.test" } },
                ],
            },
            "Unable to create an order for a.test, b.test: 2 names rejected (urn:ietf:params:acme:error:rejectedIdentifier)" +
                "; a.test: no (urn:ietf:params:acme:error:rejectedIdentifier)" +
                "; b.test: bad (urn:ietf:params:acme:error:malformed)",
        ],
    ];
    it.each(cases)("%s", (_name, action, problem, expected) => {
        expect(problemMessage(action, problem)).toBe(expected);
    });
});
