// Typed ACME errors: the problem document (RFC 8555 §6.7, RFC 7807) behind every failed request, classified.
import { STATUS_CODES } from "node:http";

/** IANA ACME error types used by this library (https://www.iana.org/assignments/acme/acme.xhtml#errors). */
export const AcmeErrorType = {
    accountDoesNotExist: "urn:ietf:params:acme:error:accountDoesNotExist",
    alreadyRevoked: "urn:ietf:params:acme:error:alreadyRevoked",
    badNonce: "urn:ietf:params:acme:error:badNonce",
    externalAccountRequired: "urn:ietf:params:acme:error:externalAccountRequired",
    malformed: "urn:ietf:params:acme:error:malformed",
    orderNotReady: "urn:ietf:params:acme:error:orderNotReady",
    rateLimited: "urn:ietf:params:acme:error:rateLimited",
    rejectedIdentifier: "urn:ietf:params:acme:error:rejectedIdentifier",
    serverInternal: "urn:ietf:params:acme:error:serverInternal",
    unauthorized: "urn:ietf:params:acme:error:unauthorized",
    userActionRequired: "urn:ietf:params:acme:error:userActionRequired",
} as const;

/**
 * RFC 7807's type for a problem that has no more meaning than its HTTP status: what we record when the CA (or
 * something in front of it) answers without a problem document, and for connections that failed outright.
 */
export const UNTYPED_PROBLEM = "about:blank";

/** A Retry-After at most this far away is worth waiting for; a later one fails the request at once. */
export const SHORT_RETRY_AFTER_MS = 60_000;

export interface AcmeProblem {
    type: string;
    detail: string;
    status?: number;
    identifier?: { type: string; value: string };
    subproblems?: AcmeProblem[];
}

/** Recognises our errors even when two copies of this module are loaded (a program and a linked package). */
const ACME_PROBLEM_BRAND = Symbol.for("pulumi-acme-certs.AcmeProblemError");

/**
 * A request the CA answered with a problem document (or a transport failure that outlived its retries).
 * The message reads "Unable to <action>: <detail> (<type>)" and never carries nonces or key material.
 */
export class AcmeProblemError extends Error {
    /** When the CA said the request may be made again (its Retry-After), or null when it did not say. */
    readonly retryAfter: Date | null;

    constructor(
        message: string,
        readonly problem: AcmeProblem,
        readonly request: { method: string; url: string },
        options: { retryAfter?: Date | null; cause?: unknown } = {},
    ) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        this.name = "AcmeProblemError";
        this.retryAfter = options.retryAfter ?? null;
        Object.defineProperty(this, ACME_PROBLEM_BRAND, { value: true });
    }
}

/** Whether `error` is an AcmeProblemError, and of problem `type` when one is given. */
export function isAcmeProblem(error: unknown, type?: string): error is AcmeProblemError {
    if (typeof error !== "object" || error === null || !(ACME_PROBLEM_BRAND in error)) return false;
    return type === undefined || (error as { problem?: AcmeProblem }).problem?.type === type;
}

/** badNonce, 429/rateLimited with a short Retry-After, 5xx and network errors; other 4xx are terminal. */
export function isRetryable(error: unknown): boolean {
    if (!isAcmeProblem(error)) return isNetworkError(error);
    const { type, status } = error.problem;
    if (type === AcmeErrorType.badNonce) return true;
    if (status === 429 || type === AcmeErrorType.rateLimited) {
        return error.retryAfter !== null && error.retryAfter.getTime() - Date.now() <= SHORT_RETRY_AFTER_MS;
    }
    if (status !== undefined && status >= 500) return true;
    return isNetworkError(error.cause);
}

/** Responses worth sending the same request again for (RFC 8555 §6.6: rate limits; server errors). */
export function isRetryableStatus(status: number): boolean {
    return status === 429 || (status >= 500 && status <= 599);
}

/** Connection failures that say nothing about the request itself ("socket hang up" is ECONNRESET). */
const TRANSIENT_NETWORK_CODES = new Set([
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "ETIMEDOUT",
    "EPIPE",
    "EAI_AGAIN",
]);

/** A connection-level failure that may well succeed when tried again. TLS and name errors are not. */
export function isNetworkError(error: unknown): boolean {
    const code = (error as { code?: unknown } | null | undefined)?.code;
    return typeof code === "string" && TRANSIENT_NETWORK_CODES.has(code);
}

/** The problem document of an error response, or an untyped one naming the HTTP status when it sent none. */
export function problemFromResponse(status: number, body: unknown): AcmeProblem {
    const document = body as Partial<AcmeProblem> | null | undefined;
    if (typeof document?.type === "string") {
        return normalizeProblem(document as AcmeProblem, status);
    }
    return { type: UNTYPED_PROBLEM, detail: `HTTP ${status} ${STATUS_CODES[status] ?? ""}`.trim(), status };
}

/** A problem document with only the members AcmeProblem knows, none of them undefined. */
export function normalizeProblem(document: AcmeProblem, status?: number): AcmeProblem {
    const problem: AcmeProblem = { type: document.type, detail: document.detail ?? "" };
    const problemStatus = typeof document.status === "number" ? document.status : status;
    if (problemStatus !== undefined) problem.status = problemStatus;
    if (document.identifier) problem.identifier = { type: document.identifier.type, value: document.identifier.value };
    if (Array.isArray(document.subproblems)) {
        problem.subproblems = document.subproblems.map((subproblem) => normalizeProblem(subproblem));
    }
    return problem;
}

/** "Unable to <action>: <detail> (<type>)", followed by each subproblem's identifier, detail and type. */
export function problemMessage(action: string, problem: AcmeProblem): string {
    const subproblems = (problem.subproblems ?? []).map(
        (subproblem) => `; ${subproblem.identifier?.value ?? "(no identifier)"}: ${describeProblem(subproblem)}`,
    );
    return `Unable to ${action}: ${describeProblem(problem)}${subproblems.join("")}`;
}

/** "<detail> (<type>)"; just the detail for an untyped problem, whose detail already names the HTTP status. */
export function describeProblem(problem: AcmeProblem): string {
    return problem.type === UNTYPED_PROBLEM ? problem.detail : `${problem.detail} (${problem.type})`;
}
