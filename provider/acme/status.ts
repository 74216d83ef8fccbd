// RFC 8555 object states, classified in one place (§7.1.6). Nothing else compares status strings.

export type OrderStatus = "pending" | "ready" | "processing" | "valid" | "invalid";
export type AuthorizationStatus = "pending" | "valid" | "invalid" | "deactivated" | "expired" | "revoked";
export type ChallengeStatus = "pending" | "processing" | "valid" | "invalid";
export type AccountStatus = "valid" | "deactivated" | "revoked";

/** The order will never change again. */
export function isFinalOrderStatus(status: OrderStatus): boolean {
    return status === "valid" || status === "invalid";
}

/** The order was finalized: the CA is issuing its certificate, or has issued it. */
export function isFinalizedOrderStatus(status: OrderStatus): boolean {
    return status === "processing" || status === "valid";
}

/** The order can still lead to a certificate. */
export function isLiveOrderStatus(status: OrderStatus): boolean {
    return status !== "invalid";
}

/** The authorization still waits for a challenge answer (and should be deactivated when abandoned). */
export function isPendingAuthorization(status: AuthorizationStatus): boolean {
    return status === "pending";
}

export function isValidAuthorization(status: AuthorizationStatus): boolean {
    return status === "valid";
}

/** The authorization can no longer become valid. */
export function isFailedAuthorization(status: AuthorizationStatus): boolean {
    return status === "invalid" || status === "deactivated" || status === "expired" || status === "revoked";
}
