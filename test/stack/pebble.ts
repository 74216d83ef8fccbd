// Pebble (Let's Encrypt's RFC 8555 test CA) on free loopback ports, validating against the stack's BIND.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as x509 from "@peculiar/x509";
import { freePort, type ManagedProcess, requireBinary, startProcess, waitUntilReady } from "./processes";

export interface PebbleOptions {
    /** Lifetime of issued certificates in seconds (Pebble's `certificateValidityPeriod`). */
    validitySeconds?: number;
    /** Extra environment: fault knobs such as PEBBLE_WFE_NONCEREJECT, PEBBLE_AUTHZREUSE, PEBBLE_ALTERNATE_ROOTS. */
    env?: Record<string, string>;
    /** When given, accounts must carry an External Account Binding with one of these key ids (kid → base64url HMAC key). */
    externalAccountMacKeys?: Record<string, string>;
    /** The port Pebble's validator connects to for HTTP-01. */
    httpPort?: number;
}

/** What a client needs to use this Pebble. JSON-serializable. */
export interface PebbleInfo {
    readonly directoryUrl: string;
    readonly managementUrl: string;
    /** The CA of Pebble's own HTTPS listener: clients must trust it (our `caCertificatesPem`). */
    readonly listenerCaPem: string;
    /** Port Pebble's validator uses for HTTP-01 challenges. */
    readonly httpPort: number;
    readonly validitySeconds: number | undefined;
}

export interface PebbleServer extends PebbleInfo {
    readonly process: ManagedProcess;
    stop(): Promise<void>;
}

/** Defaults that make Pebble deterministic; a test that wants a fault sets the knob explicitly. */
const QUIET_DEFAULTS = { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" };

export async function startPebble(dir: string, dnsServer: string, options: PebbleOptions = {}): Promise<PebbleServer> {
    const pebble = requireBinary("pebble", "pebble");
    fs.mkdirSync(dir, { recursive: true });
    const [listenPort, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
    const httpPort = options.httpPort ?? (await freePort());
    const listener = await selfSignedListenerCertificate();
    fs.writeFileSync(path.join(dir, "listener.pem"), listener.certificatePem);
    fs.writeFileSync(path.join(dir, "listener.key"), listener.privateKeyPem, { mode: 0o600 });
    const config = {
        pebble: {
            listenAddress: `127.0.0.1:${listenPort}`,
            managementListenAddress: `127.0.0.1:${managementPort}`,
            certificate: path.join(dir, "listener.pem"),
            privateKey: path.join(dir, "listener.key"),
            httpPort,
            tlsPort,
            ocspResponderURL: "",
            externalAccountBindingRequired: options.externalAccountMacKeys !== undefined,
            ...(options.externalAccountMacKeys ? { externalAccountMACKeys: options.externalAccountMacKeys } : {}),
            ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
        },
    };
    const configFile = path.join(dir, "pebble.json");
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

    const proc = startProcess("pebble", pebble, ["-config", configFile, "-dnsserver", dnsServer], {
        logFile: path.join(dir, "pebble.log"),
        env: { ...QUIET_DEFAULTS, ...options.env },
    });
    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    await waitUntilReady(proc, async () => (await httpsGet(directoryUrl, listener.certificatePem)).length > 0);
    return {
        directoryUrl,
        managementUrl: `https://127.0.0.1:${managementPort}`,
        listenerCaPem: listener.certificatePem,
        httpPort,
        validitySeconds: options.validitySeconds,
        process: proc,
        stop: () => proc.stop(),
    };
}

/** The root that issued this Pebble's certificates (a fresh one per start); `index` > 0 for alternate roots. */
export function pebbleRootPem(pebble: PebbleInfo, index = 0): Promise<string> {
    return httpsGet(`${pebble.managementUrl}/roots/${index}`, pebble.listenerCaPem);
}

export function pebbleIntermediatePem(pebble: PebbleInfo, index = 0): Promise<string> {
    return httpsGet(`${pebble.managementUrl}/intermediates/${index}`, pebble.listenerCaPem);
}

export function httpsGet(url: string, caPem: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const request = https.get(url, { ca: caPem, timeout: 2000 }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk) => {
                body += chunk;
            });
            response.on("end", () =>
                (response.statusCode ?? 0) < 300
                    ? resolve(body)
                    : reject(new Error(`GET ${url}: HTTP ${response.statusCode}: ${body}`)),
            );
        });
        request.on("timeout", () => request.destroy(new Error(`GET ${url}: timed out`)));
        request.on("error", reject);
    });
}

/** A fresh self-signed ECDSA certificate for an HTTPS listener on 127.0.0.1 / localhost (Pebble, the CA proxy). */
export async function selfSignedListenerCertificate(): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = await crypto.webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
    const now = Date.now();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
        {
            serialNumber: crypto.randomBytes(8).toString("hex"),
            name: "CN=Pebble test listener",
            notBefore: new Date(now - 3600_000),
            notAfter: new Date(now + 30 * 86400_000),
            signingAlgorithm: algorithm,
            keys,
            extensions: [
                new x509.SubjectAlternativeNameExtension([
                    { type: "dns", value: "localhost" },
                    { type: "ip", value: "127.0.0.1" },
                ]),
            ],
        },
        crypto.webcrypto,
    );
    const pkcs8 = await crypto.webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    const privateKeyPem = crypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }).export({
        format: "pem",
        type: "pkcs8",
    }) as string;
    return { certificatePem: certificate.toString("pem"), privateKeyPem };
}

/** Pebble's view of a certificate it issued: "Valid" or "Revoked" (management API, by lower-case hex serial). */
export async function pebbleCertificateStatus(pebble: PebbleInfo, serialNumber: string): Promise<string> {
    const body = await httpsGet(`${pebble.managementUrl}/cert-status-by-serial/${serialNumber}`, pebble.listenerCaPem);
    return (JSON.parse(body) as { Status: string }).Status;
}
