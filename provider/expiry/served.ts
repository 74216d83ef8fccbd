// The served check: does each name actually serve the certificate in state? A renewal lands in state at
// `pulumi up`, but a load balancer or ingress that was not updated keeps serving the old certificate until it
// expires. We compare serial numbers only, so the connection does not validate the chain.
import * as net from "node:net";
import * as tls from "node:tls";
import type { CertificateStatus } from "./report";

const HTTPS_PORT = 443;
const DEFAULT_TIMEOUT_MS = 5000;

/** How one name compares: "skipped" when there was nothing to connect to or compare with. */
export type ServedStatus = "served" | "stale deployment" | "unreachable" | "skipped";

/** What one name of one certificate serves. */
export interface ServedResult {
    /** The certificate's URN. */
    urn: string;
    dnsName: string;
    /** The `host:port` connected to; null when skipped. */
    address: string | null;
    status: ServedStatus;
    /** Of the certificate the server sent, lower-case hex; null when none was received. */
    servedSerialNumber: string | null;
    /** ISO 8601; null when none was received. */
    servedNotAfter: string | null;
    /** One sentence: what was found, or why not. */
    message: string;
}

export interface ServedCheckOptions {
    /**
     * Where to connect instead of `<name>:443`, by DNS name: `{ "www.example.com": "127.0.0.1:8443" }`. A wildcard
     * name is checked only when given here, e.g. `{ "*.example.com": "app.example.com" }`.
     */
    connect?: Readonly<Record<string, string>>;
    /** Per connection; 5 s unless given. */
    timeoutMs?: number;
}

/** A TCP endpoint as written in `connect`: `host`, `host:port` or `[v6-address]:port`. */
export interface Endpoint {
    host: string;
    port: number;
}

/**
 * Connects to every DNS name of every certificate, all at once, and compares the certificate each one serves with
 * the state's by serial number. Certificates whose state could not be read ("unknown") are not checked. Rejects
 * when a `connect` value is not an endpoint (see {@link parseEndpoint}).
 */
export function checkServed(
    certificates: readonly CertificateStatus[],
    options: ServedCheckOptions = {},
): Promise<ServedResult[]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const checks = certificates
        .filter((certificate) => certificate.status !== "unknown")
        .flatMap((certificate) =>
            certificate.dnsNames.map((dnsName) =>
                checkName(certificate, dnsName, options.connect?.[dnsName], timeoutMs),
            ),
        );
    return Promise.all(checks);
}

/** Parses `host`, `host:port` or `[v6-address]:port`; the port defaults to 443. Throws saying what to write. */
export function parseEndpoint(text: string): Endpoint {
    const match = /^(?:\[([^\]\s]+)\]|([^\s:[\]]+))(?::(\d+))?$/.exec(text.trim());
    const port = match?.[3] === undefined ? HTTPS_PORT : Number(match[3]);
    if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(
            `${JSON.stringify(text)} is not an endpoint: write HOST, HOST:PORT or [IPv6]:PORT, e.g. "127.0.0.1:8443"`,
        );
    }
    return { host: match[1] ?? match[2]!, port };
}

async function checkName(
    certificate: CertificateStatus,
    dnsName: string,
    connectTo: string | undefined,
    timeoutMs: number,
): Promise<ServedResult> {
    const result = (address: string | null, status: ServedStatus, message: string, served?: PeerCertificate) => ({
        urn: certificate.urn,
        dnsName,
        address,
        status,
        servedSerialNumber: served?.serialNumber ?? null,
        servedNotAfter: served?.notAfter ?? null,
        message,
    });
    const wildcard = dnsName.startsWith("*.");
    if (wildcard && connectTo === undefined) {
        const example = `${dnsName}=app.${dnsName.slice(2)}`;
        return result(
            null,
            "skipped",
            `a wildcard has no host of its own; connect it to one it covers, e.g. ${example}`,
        );
    }
    const endpoint = connectTo === undefined ? { host: dnsName, port: HTTPS_PORT } : parseEndpoint(connectTo);
    const address = net.isIPv6(endpoint.host)
        ? `[${endpoint.host}]:${endpoint.port}`
        : `${endpoint.host}:${endpoint.port}`;
    // SNI picks the certificate on shared servers. A wildcard cannot be sent, so it uses the host it maps to;
    // SNI never carries an IP address (RFC 6066), so then none is sent.
    const sniName = wildcard ? endpoint.host : dnsName;
    const servername = net.isIP(sniName) === 0 ? sniName : undefined;
    let served: PeerCertificate;
    try {
        served = await peerCertificate(endpoint, servername, timeoutMs);
    } catch (error) {
        return result(address, "unreachable", `${address}: ${connectionProblem(error, timeoutMs)}`);
    }
    if (served.serialNumber === normalSerial(certificate.serialNumber ?? "")) {
        return result(address, "served", `${address} serves the certificate in state`, served);
    }
    const message =
        `${address} serves serial ${served.serialNumber} (notAfter ${served.notAfter}), ` +
        `but the state has serial ${certificate.serialNumber} (notAfter ${certificate.notAfter}): ` +
        "deliver the certificate in state to this endpoint";
    return result(address, "stale deployment", message, served);
}

interface PeerCertificate {
    /** Lower-case hex without leading zeros, like the state's. */
    serialNumber: string;
    /** ISO 8601 when it parses, else as the TLS stack printed it. */
    notAfter: string;
}

/** The leaf certificate a TLS server presents, without validating it. */
function peerCertificate(
    endpoint: Endpoint,
    servername: string | undefined,
    timeoutMs: number,
): Promise<PeerCertificate> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ ...endpoint, servername, rejectUnauthorized: false, timeout: timeoutMs });
        socket.once("timeout", () => socket.destroy(new TimeoutError()));
        socket.on("error", reject);
        socket.once("secureConnect", () => {
            const peer = socket.getPeerCertificate();
            socket.destroy();
            if (!peer.serialNumber) {
                reject(new Error("the server sent no certificate"));
                return;
            }
            const notAfter = new Date(peer.valid_to);
            resolve({
                serialNumber: normalSerial(peer.serialNumber),
                notAfter: Number.isNaN(notAfter.getTime()) ? peer.valid_to : notAfter.toISOString(),
            });
        });
    });
}

class TimeoutError extends Error {}

/** Why a connection gave no certificate, in words an operator can act on. */
function connectionProblem(error: unknown, timeoutMs: number): string {
    if (error instanceof TimeoutError) return `no TLS answer within ${timeoutMs / 1000} s (timeout)`;
    const { code, message } = error as NodeJS.ErrnoException;
    switch (code) {
        case "ECONNREFUSED":
            return "connection refused: nothing listens there";
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return "the name does not resolve";
        case "ECONNRESET":
            return "the connection was reset during the TLS handshake";
        case "ETIMEDOUT":
            return "the connection timed out";
        default:
            return `TLS error: ${message}`;
    }
}

/** Serial numbers as compared: lower-case hex without leading zeros (Node prints them upper-case, padded). */
function normalSerial(hex: string): string {
    return hex.toLowerCase().replace(/^0+(?=.)/, "");
}
