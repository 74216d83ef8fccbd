// provider/acme/transport.ts hooks into internals of acme-client 5.4.0 (see AcmeClientInternals). These tests
// pin each one, so an upgrade that changes them fails here, by name, rather than somewhere in an order.
import * as crypto from "node:crypto";
import * as http from "node:http";
import type * as net from "node:net";
import * as acme from "acme-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcmeErrorType } from "../../provider/acme/errors";
import { type AcmeClientInternals, assertAcmeClientInternals } from "../../provider/acme/transport";
import { generatePrivateKey } from "../../provider/crypto/keys";
import { freePort } from "../stack/processes";

/** The parts of acme-client's HttpClient that sign, beyond those the transport relies on. */
type SigningHttpClient = AcmeClientInternals["http"] & {
    jwk: object | null;
    getJwk(): object;
    createSignedBody(
        url: string,
        payload: object,
        opts: { nonce: string; kid: string },
    ): { protected: string; payload: string; signature: string };
};

const newClient = async () =>
    new acme.Client({
        directoryUrl: "https://ca.invalid/directory",
        accountKey: await generatePrivateKey({ algorithm: "ECDSA" }),
    }) as acme.Client & AcmeClientInternals;

describe("acme-client internals", () => {
    it("the installed acme-client is 5.4.0", () => {
        expect(require("acme-client/package.json").version).toBe("5.4.0");
    });

    it("a Client has the http methods and the api.accountUrl the transport replaces and reads", async () => {
        const client = await newClient();
        expect(() => assertAcmeClientInternals(client)).not.toThrow();
        expect(client.api.accountUrl).toBeNull();
    });

    it("a client without them is refused, naming what is missing", () => {
        const changed = { http: { request() {}, getNonce() {} }, api: {} } as unknown as acme.Client;
        expect(() => assertAcmeClientInternals(changed)).toThrow(
            "acme-client's internals differ from 5.4.0 (missing http.signedRequest(), http.getDirectory(), " +
                "http.accountKey, api.accountUrl): install acme-client 5.4.0, or update provider/acme/transport.ts " +
                "for the new version",
        );
    });

    it.each([
        ["an ECDSA P-256", { algorithm: "ECDSA" }, "ES256"],
        ["an RSA", { algorithm: "RSA" }, "RS256"],
    ] as const)("signs with %s account key given as a KeyObject, with the JWK of its PEM", async (_name, spec, alg) => {
        const pem = await generatePrivateKey(spec);
        const client = new acme.Client({ directoryUrl: "https://ca.invalid/directory", accountKey: pem });
        const httpClient = (client as unknown as { http: SigningHttpClient }).http;
        const jwkOfPem = httpClient.getJwk();
        httpClient.accountKey = crypto.createPrivateKey(pem);
        // getJwk() caches the JWK: forget it, so that it is derived from the KeyObject.
        httpClient.jwk = null;
        expect(httpClient.getJwk()).toEqual(jwkOfPem);

        const body = httpClient.createSignedBody("https://ca.invalid/new-order", { a: 1 }, { nonce: "n", kid: "k" });
        expect(JSON.parse(Buffer.from(body.protected, "base64url").toString())).toMatchObject({ alg });
        const signed = Buffer.from(`${body.protected}.${body.payload}`);
        const signature = Buffer.from(body.signature, "base64url");
        const publicKey = { key: crypto.createPublicKey(pem), dsaEncoding: "ieee-p1363" as const };
        expect(crypto.verify("sha256", signed, publicKey, signature)).toBe(true);
    });

    it("signedRequest resends a badNonce through this.signedRequest, with attempts + 1 and the error's nonce", async () => {
        const { http: httpClient } = await newClient();
        const responses = [
            { status: 400, headers: { "replay-nonce": "from-the-error" }, data: { type: AcmeErrorType.badNonce } },
            { status: 200, headers: {}, data: {} },
        ];
        const signedWith: Array<{ attempts: number | undefined; nonce: string | null | undefined }> = [];
        const original = httpClient.signedRequest.bind(httpClient);
        httpClient.getNonce = async () => "from-getNonce";
        httpClient.request = async () => responses.shift()!;
        httpClient.signedRequest = (url, payload, opts, attempts) => {
            signedWith.push({ attempts, nonce: opts?.nonce });
            return original(url, payload, opts, attempts);
        };
        const response = await httpClient.signedRequest("https://ca.invalid/new-order", {}, {});
        expect(response.status).toBe(200);
        expect(signedWith).toEqual([
            { attempts: undefined, nonce: undefined },
            { attempts: 1, nonce: "from-the-error" },
        ]);
    });
});

describe("acme-client's global axios interceptor", () => {
    let server: http.Server;
    let url: string;
    let hits = 0;
    beforeAll(async () => {
        server = http.createServer((_req, res) => {
            hits += 1;
            res.writeHead(503).end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("does not retry a request whose retryAttempt starts above retryMaxAttempts", async () => {
        hits = 0;
        const response = await acme.axios.request({
            url,
            validateStatus: null,
            retryAttempt: Number.POSITIVE_INFINITY,
        } as object);
        expect(response.status).toBe(503);
        expect(hits).toBe(1);
    });

    it("replaces the error of a request that got no response with a TypeError", async () => {
        const nobodyListening = `http://127.0.0.1:${await freePort()}/`;
        const failure = acme.axios.request({
            url: nobodyListening,
            validateStatus: null,
            retryAttempt: Number.POSITIVE_INFINITY,
        } as object);
        await expect(failure).rejects.toThrow(TypeError);
    });
});
