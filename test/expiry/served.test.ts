import * as net from "node:net";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateStatus, expiryReport } from "../../provider/expiry/report";
import { checkServed, parseEndpoint } from "../../provider/expiry/served";
import { makeCertificate, stackExport, type TestCertificate } from "./exports";

const NAMES = ["www.example.test", "api.example.test", "*.example.test"];
const NOW = Date.parse("2026-06-01T00:00:00Z");

/** A loopback server on a free port, closed by its handle after the tests. */
interface Listener {
    port: number;
    /** The SNI name of each connection that sent one. */
    servernames: string[];
    close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
    );
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
    return () =>
        new Promise((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
        });
}

async function tlsListener(certificate: TestCertificate): Promise<Listener> {
    const servernames: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = tls.createServer({
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
        // Called during the hello, so it is recorded before the client has the certificate (and hangs up).
        SNICallback: (servername, useDefaultContext) => {
            servernames.push(servername);
            useDefaultContext(null, undefined);
        },
    });
    server.on("connection", (socket) => sockets.add(socket));
    // The checker hangs up as soon as it has the certificate.
    server.on("secureConnection", (socket) => socket.on("error", () => {}));
    return { port: await listen(server), servernames, close: closer(server, sockets) };
}

/** A TCP server that answers a TLS hello with `reply`, or never answers when `reply` is undefined. */
async function plainListener(reply: string | undefined): Promise<Listener> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => {});
        if (reply !== undefined) socket.once("data", () => socket.write(reply));
    });
    return { port: await listen(server), servernames: [], close: closer(server, sockets) };
}

async function closedPort(): Promise<number> {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    return port;
}

let inState: TestCertificate;
let stale: TestCertificate;
let certificates: CertificateStatus[];
const listeners: Listener[] = [];
let current: Listener;
let old: Listener;

beforeAll(async () => {
    const validity = { notBefore: new Date("2026-05-01T00:00:00Z"), notAfter: new Date("2026-07-30T00:00:00Z") };
    inState = await makeCertificate(NAMES, validity);
    stale = await makeCertificate(NAMES, { notBefore: new Date("2026-02-01T00:00:00Z"), notAfter: validity.notBefore });
    const unreadable = await makeCertificate(["hidden.example.test"], validity);
    const { document } = stackExport(
        [
            { name: "edge", dnsNames: NAMES, certificate: inState, renewAt: "2026-06-30T00:00:00.000Z" },
            {
                name: "gone",
                dnsNames: ["gone.example.test"],
                certificate: inState,
                renewAt: "2026-06-30T00:00:00.000Z",
            },
            {
                name: "hidden",
                dnsNames: ["hidden.example.test"],
                certificate: unreadable,
                renewAt: "2026-06-30T00:00:00.000Z",
                secretOutputs: ["serialNumber"],
            },
        ],
        "encrypted",
        inState.privateKeyPem,
    );
    certificates = expiryReport(document, { now: NOW }).certificates;
    current = await tlsListener(inState);
    old = await tlsListener(stale);
    listeners.push(current, old);
});

afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
});

describe("checkServed", () => {
    it("tells served, stale deployment, unreachable and skipped apart, for every name of every readable certificate", async () => {
        const closed = await closedPort();
        const results = await checkServed(certificates, {
            connect: {
                "www.example.test": `127.0.0.1:${current.port}`,
                "api.example.test": `127.0.0.1:${old.port}`,
                "gone.example.test": `127.0.0.1:${closed}`,
            },
        });
        const urn = (name: string) => certificates.find((certificate) => certificate.name === name)!.urn;
        expect(results).toStrictEqual([
            {
                urn: urn("edge"),
                dnsName: "www.example.test",
                address: `127.0.0.1:${current.port}`,
                status: "served",
                servedSerialNumber: inState.serialNumber,
                servedNotAfter: inState.notAfter,
                message: `127.0.0.1:${current.port} serves the certificate in state`,
            },
            {
                urn: urn("edge"),
                dnsName: "api.example.test",
                address: `127.0.0.1:${old.port}`,
                status: "stale deployment",
                servedSerialNumber: stale.serialNumber,
                servedNotAfter: "2026-05-01T00:00:00.000Z",
                message:
                    `127.0.0.1:${old.port} serves serial ${stale.serialNumber} (notAfter 2026-05-01T00:00:00.000Z), ` +
                    `but the state has serial ${inState.serialNumber} (notAfter 2026-07-30T00:00:00.000Z): ` +
                    "deliver the certificate in state to this endpoint",
            },
            {
                urn: urn("edge"),
                dnsName: "*.example.test",
                address: null,
                status: "skipped",
                servedSerialNumber: null,
                servedNotAfter: null,
                message:
                    "a wildcard has no host of its own; connect it to one it covers, e.g. *.example.test=app.example.test",
            },
            {
                urn: urn("gone"),
                dnsName: "gone.example.test",
                address: `127.0.0.1:${closed}`,
                status: "unreachable",
                servedSerialNumber: null,
                servedNotAfter: null,
                message: `127.0.0.1:${closed}: connection refused: nothing listens there`,
            },
        ]);
        // Each name was asked for by SNI, as a shared server needs.
        expect(current.servernames).toContain("www.example.test");
        expect(old.servernames).toContain("api.example.test");
    });

    it("checks a wildcard at the endpoint connect names, sending no SNI for an IP address", async () => {
        const edge = certificates.filter((certificate) => certificate.name === "edge");
        const before = current.servernames.length;
        const results = await checkServed(edge, {
            connect: {
                "*.example.test": `127.0.0.1:${current.port}`,
                "www.example.test": `127.0.0.1:${current.port}`,
                "api.example.test": `127.0.0.1:${current.port}`,
            },
        });
        expect(results.map(({ dnsName, status }) => [dnsName, status])).toEqual([
            ["www.example.test", "served"],
            ["api.example.test", "served"],
            ["*.example.test", "served"],
        ]);
        // Three connections, and SNI only for the two names that are not wildcards.
        expect(current.servernames.slice(before).sort()).toEqual(["api.example.test", "www.example.test"]);
    });

    it("reports a server that does not speak TLS, and one that never answers, as unreachable saying which", async () => {
        const http = await plainListener("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        const silent = await plainListener(undefined);
        listeners.push(http, silent);
        const edge = certificates.filter((certificate) => certificate.name === "edge");
        const results = await checkServed(edge, {
            connect: { "www.example.test": `127.0.0.1:${http.port}`, "api.example.test": `127.0.0.1:${silent.port}` },
            timeoutMs: 300,
        });
        expect(results[0]).toMatchObject({ status: "unreachable", address: `127.0.0.1:${http.port}` });
        expect(results[0]!.message).toMatch(
            new RegExp(`^127\\.0\\.0\\.1:${http.port}: TLS error: .*wrong version number`),
        );
        expect(results[1]).toMatchObject({
            status: "unreachable",
            message: `127.0.0.1:${silent.port}: no TLS answer within 0.3 s (timeout)`,
        });
    });

    it("does not check a certificate whose state could not be read", async () => {
        const hidden = certificates.filter((certificate) => certificate.name === "hidden");
        expect(hidden[0]!.status).toBe("unknown");
        expect(await checkServed(hidden)).toEqual([]);
    });
});

describe("parseEndpoint", () => {
    it.each([
        { text: "127.0.0.1:8443", endpoint: { host: "127.0.0.1", port: 8443 } },
        { text: "app.example.com", endpoint: { host: "app.example.com", port: 443 } },
        { text: "[::1]:8443", endpoint: { host: "::1", port: 8443 } },
        { text: "[2001:db8::1]", endpoint: { host: "2001:db8::1", port: 443 } },
    ])("reads $text", ({ text, endpoint }) => {
        expect(parseEndpoint(text)).toEqual(endpoint);
    });

    it.each(["", "host:0", "host:65536", "host:https", "::1:443", "a b:1"])(
        "rejects %j saying what to write",
        (text) => {
            expect(() => parseEndpoint(text)).toThrow("is not an endpoint: write HOST, HOST:PORT or [IPv6]:PORT");
        },
    );
});
