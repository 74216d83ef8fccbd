// A real TLS handshake for each name of a certificate: a node:tls server on 127.0.0.1 presents the chain and key,
// and a client that trusts only the CA's root connects once per name with that name as SNI, verifying the chain
// and the name as any HTTPS client would. Used by the tests and the demo (no test framework in here).
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";

export interface HandshakeResult {
    /** The certificate's name; for a wildcard, `sni` is a name it covers. */
    name: string;
    sni: string;
    /** The chain verified to the root and the certificate is valid for `sni`. */
    authorized: boolean;
    /** Why not, as node:tls says it (e.g. ERR_TLS_CERT_ALTNAME_INVALID, UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
    authorizationError?: string;
    /** The serial of the certificate the server presented, lower-case hex. */
    serialNumber: string;
}

export interface HandshakeOptions {
    /** What the server presents: leaf then intermediates, PEM (a Secret's tls.crt). */
    certificateChainPem: string;
    /** The server's key (a Secret's tls.key). */
    privateKeyPem: string;
    /** The only certificate the client trusts. */
    rootPem: string;
    names: readonly string[];
}

/** One handshake per name, in order. */
export async function handshakeEachName(options: HandshakeOptions): Promise<HandshakeResult[]> {
    const server = tls.createServer({ cert: options.certificateChainPem, key: options.privateKeyPem });
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
        const results: HandshakeResult[] = [];
        for (const name of options.names) results.push(await handshake(port, name, options.rootPem));
        return results;
    } finally {
        await new Promise((resolve) => server.close(resolve));
    }
}

/** A name the certificate must cover for `name`: itself, or one label under a wildcard. */
export function sniFor(name: string): string {
    return name.startsWith("*.") ? `tls-check.${name.slice(2)}` : name;
}

function handshake(port: number, name: string, rootPem: string): Promise<HandshakeResult> {
    const sni = sniFor(name);
    return new Promise((resolve, reject) => {
        // rejectUnauthorized false: the verdict (chain and name) is reported, not thrown.
        const socket = tls.connect({
            host: "127.0.0.1",
            port,
            servername: sni,
            ca: rootPem,
            rejectUnauthorized: false,
        });
        socket.once("secureConnect", () => {
            const presented = socket.getPeerCertificate();
            resolve({
                name,
                sni,
                authorized: socket.authorized,
                ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
                serialNumber: presented.serialNumber.toLowerCase(),
            });
            socket.end();
        });
        socket.once("error", reject);
    });
}
