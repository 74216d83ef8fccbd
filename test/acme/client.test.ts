// The account client against the stack's Pebble, validating against its BIND and HTTP-01 responder.
import * as crypto from "node:crypto";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
    type AcmeAccountRef,
    accountClient,
    type AcmeAccountClient as Client,
    createAccountClient,
} from "../../provider/acme/client";
import { AcmeErrorType } from "../../provider/acme/errors";
import { certificateMatchesKey, describeCertificate, splitPemChain } from "../../provider/crypto/certificate";
import { createCsr } from "../../provider/crypto/csr";
import { generatePrivateKey } from "../../provider/crypto/keys";
import { DnsUpdater, Http01Responder, type PebbleServer, pebbleRootPem, startPebble } from "../stack/index";
import { uniqueName } from "../stack/names";
import { challengeOf, finalizeAndDownload, issueOverDns01, publishDns01, rejection } from "./issue";

const stack = inject("stack");
const dns = new DnsUpdater(stack.bind);

async function freshRef(directory: { directoryUrl: string; listenerCaPem: string } = stack.pebble) {
    return {
        directoryUrl: directory.directoryUrl,
        caCertificatesPem: directory.listenerCaPem,
        accountKeyPem: await generatePrivateKey({ algorithm: "ECDSA" }),
    } satisfies AcmeAccountRef;
}

async function registered(contact: string[] = []): Promise<Client> {
    const client = createAccountClient(await freshRef());
    await client.registerAccount({ contact, termsOfServiceAgreed: true });
    return client;
}

describe("accounts", () => {
    it("registering the same key again adopts the same account and sets the new contact", async () => {
        const ref = await freshRef();
        const first = await createAccountClient(ref).registerAccount({
            contact: ["mailto:first@example.test"],
            termsOfServiceAgreed: true,
        });
        expect(first).toEqual({
            url: expect.stringMatching(/\/my-account\//),
            status: "valid",
            contact: ["mailto:first@example.test"],
        });

        const second = createAccountClient(ref);
        const again = await second.registerAccount({
            contact: ["mailto:second@example.test"],
            termsOfServiceAgreed: true,
        });
        expect(again).toEqual({ url: first.url, status: "valid", contact: ["mailto:second@example.test"] });

        // A client that already knows its account URL updates the account instead of creating one.
        const third = await second.registerAccount({
            contact: ["mailto:third@example.test"],
            termsOfServiceAgreed: true,
        });
        expect(third).toEqual({ url: first.url, status: "valid", contact: ["mailto:third@example.test"] });
    });

    it("updates the contact and finds the account by its key", async () => {
        const ref = await freshRef();
        const registrant = createAccountClient(ref);
        const account = await registrant.registerAccount({ contact: [], termsOfServiceAgreed: true });
        const updated = await registrant.updateAccountContact(["mailto:ops@example.test", "mailto:sec@example.test"]);
        expect(updated).toEqual({
            url: account.url,
            status: "valid",
            contact: ["mailto:ops@example.test", "mailto:sec@example.test"],
        });
        expect(await createAccountClient(ref).findAccount()).toEqual(updated);
    });

    it("finds no account for a key that never registered", async () => {
        expect(await createAccountClient(await freshRef()).findAccount()).toBeNull();
    });

    it("deactivates an account once and accepts being asked again, with or without its URL", async () => {
        const ref = await freshRef();
        const client = createAccountClient(ref);
        const { url } = await client.registerAccount({ contact: [], termsOfServiceAgreed: true });
        await client.deactivateAccount();
        await client.deactivateAccount();
        await createAccountClient({ ...ref, accountUrl: url }).deactivateAccount();
        await createAccountClient(ref).deactivateAccount();
        const lookup = await rejection(createAccountClient(ref).findAccount());
        expect(lookup.problem.type).toBe(AcmeErrorType.unauthorized);
        expect(lookup.message).toMatch(/^Unable to look up the account of the key: .*deactivated/);
    });

    it("deactivating a key that has no account does nothing", async () => {
        await createAccountClient(await freshRef()).deactivateAccount();
    });

    it("reads the directory's meta", async () => {
        const meta = await createAccountClient(await freshRef()).directoryMeta();
        expect(meta).toMatchObject({ externalAccountRequired: false, termsOfService: expect.any(String) });
    });
});

describe("External Account Binding", () => {
    const keyId = "kid-test";
    const hmacKey = crypto.randomBytes(32).toString("base64url");
    let pebble: PebbleServer;

    beforeAll(async () => {
        const dir = path.join(stack.dir, `pebble-eab-${crypto.randomBytes(4).toString("hex")}`);
        pebble = await startPebble(dir, stack.bind.address, { externalAccountMacKeys: { [keyId]: hmacKey } });
    });
    afterAll(() => pebble?.stop());

    it("a CA that requires a binding refuses a registration without one", async () => {
        const client = createAccountClient(await freshRef(pebble));
        expect(await client.directoryMeta()).toMatchObject({ externalAccountRequired: true });
        const error = await rejection(client.registerAccount({ contact: [], termsOfServiceAgreed: true }));
        expect(error.problem.type).toBe(AcmeErrorType.externalAccountRequired);
        expect(error.message).toMatch(
            /^Unable to register the account: .+ \(urn:ietf:params:acme:error:externalAccountRequired\)$/,
        );
        expect(error.request).toEqual({ method: "POST", url: expect.stringMatching(/\/sign-me-up$/) });
    });

    it("registers with the binding, the account is usable for orders, and registering again adopts it", async () => {
        const ref = await freshRef(pebble);
        const client = createAccountClient(ref);
        const account = await client.registerAccount({
            contact: ["mailto:eab@example.test"],
            termsOfServiceAgreed: true,
            externalAccountBinding: { keyId, hmacKey },
        });
        expect(account).toMatchObject({ status: "valid", contact: ["mailto:eab@example.test"] });
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        expect(order.status).toBe("pending");

        const again = await createAccountClient(ref).registerAccount({
            contact: [],
            termsOfServiceAgreed: true,
            externalAccountBinding: { keyId, hmacKey },
        });
        expect(again).toEqual({ url: account.url, status: "valid", contact: [] });
    });

    it("a binding signed with the wrong HMAC key is refused", async () => {
        const client = createAccountClient(await freshRef(pebble));
        const wrongKey = crypto.randomBytes(32).toString("base64url");
        const error = await rejection(
            client.registerAccount({
                contact: [],
                termsOfServiceAgreed: true,
                externalAccountBinding: { keyId, hmacKey: wrongKey },
            }),
        );
        expect(error.message).toMatch(/^Unable to register the account: /);
        expect(error.message).not.toContain(wrongKey);
    });
});

describe("orders", () => {
    let client: Client;
    beforeAll(async () => {
        client = await registered();
    });

    it("issues a certificate for an apex and its wildcard over DNS-01, both values in one record set", async () => {
        const apex = uniqueName();
        const names = [apex, `*.${apex}`];
        const order = await client.createOrder({ dnsNames: names });
        expect(order).toMatchObject({ status: "pending", certificate: null, error: null });
        expect(order.identifiers.map(({ type, value }) => `${type}:${value}`).sort()).toEqual([
            `dns:*.${apex}`,
            `dns:${apex}`,
        ]);
        const authorizations = await publishDns01(client, order, dns);
        expect(authorizations.map((a) => [a.identifier.value, a.wildcard]).sort()).toEqual([
            [apex, false],
            [apex, true],
        ]);
        for (const authorization of authorizations) {
            const answered = await client.answerChallenge(challengeOf(authorization, "dns-01").url);
            expect(answered.type).toBe("dns-01");
        }
        const ready = await client.waitForOrder(order.url, ["ready"]);
        const { order: valid, chainPem, keyPem } = await finalizeAndDownload(client, ready, names);

        expect(valid.status).toBe("valid");
        expect(valid.certificate).toMatch(/\/certZ\//);
        const chain = splitPemChain(chainPem).map((pem) => new crypto.X509Certificate(pem));
        const root = new crypto.X509Certificate(await pebbleRootPem(stack.pebble));
        chain.forEach((certificate, i) => {
            expect(certificate.verify((chain[i + 1] ?? root).publicKey)).toBe(true);
        });
        expect(describeCertificate(chainPem).dnsNames.sort()).toEqual([...names].sort());
        expect(certificateMatchesKey(chainPem, keyPem)).toBe(true);
    });

    it("issues a certificate over HTTP-01", async () => {
        const name = uniqueName();
        const responder = new Http01Responder(stack.http01);
        const order = await client.createOrder({ dnsNames: [name] });
        const authorization = await client.getAuthorization(order.authorizations[0]!);
        const challenge = challengeOf(authorization, "http-01");
        await responder.add(challenge.token, client.keyAuthorization(challenge.token));
        try {
            await client.answerChallenge(challenge.url);
            const ready = await client.waitForOrder(order.url, ["ready"]);
            const { chainPem } = await finalizeAndDownload(client, ready, [name]);
            expect(describeCertificate(chainPem).dnsNames).toEqual([name]);
        } finally {
            await responder.remove(challenge.token);
        }
        expect((await client.getAuthorization(authorization.url)).status).toBe("valid");
    });

    it("a wrong TXT value turns the order invalid, and the error names the domain and Pebble's detail", async () => {
        const name = uniqueName();
        const order = await client.createOrder({ dnsNames: [name] });
        const [authorization] = await publishDns01(client, order, dns, () => "not-the-right-value");
        await client.answerChallenge(challengeOf(authorization!, "dns-01").url);

        const error = await rejection(client.waitForOrder(order.url, ["ready"]));
        const failed = challengeOf(await client.getAuthorization(authorization!.url), "dns-01").error!;
        expect(failed.type).toBe(AcmeErrorType.unauthorized);
        expect(error.message).toBe(`Unable to validate ${name}: ${failed.detail} (${failed.type})`);
        expect(error.problem.subproblems).toEqual([{ ...failed, identifier: { type: "dns", value: name } }]);
        expect(error.request).toEqual({ method: "POST", url: order.url });
    });

    it("deactivates a pending authorization, and leaves it alone when asked again", async () => {
        const order = await client.createOrder({ dnsNames: [uniqueName()] });
        const url = order.authorizations[0]!;
        await client.deactivateAuthorization(url);
        expect((await client.getAuthorization(url)).status).toBe("deactivated");
        await client.deactivateAuthorization(url);
        expect((await client.getAuthorization(url)).status).toBe("deactivated");
    });

    it("finalizing an order that is not ready fails with orderNotReady", async () => {
        const name = uniqueName();
        const order = await client.createOrder({ dnsNames: [name] });
        const csrPem = await createCsr(await generatePrivateKey({ algorithm: "ECDSA" }), [name]);
        const error = await rejection(client.finalizeOrder(order, csrPem));
        expect(error.problem).toMatchObject({ type: AcmeErrorType.orderNotReady, status: 403 });
        expect(error.message).toMatch(
            new RegExp(`^Unable to finalize order ${order.url}: .+ \\(urn:ietf:params:acme:error:orderNotReady\\)$`),
        );
    });

    it("revokes a certificate, and accepts revoking it again", async () => {
        const { chainPem } = await issueOverDns01(client, [uniqueName()], dns);
        await client.revokeCertificate(chainPem);
        await client.revokeCertificate(chainPem, 4);
    });
});

describe("accountClient", () => {
    it("signs with the parsed account key, not its PEM (which node:crypto would parse for every signature)", async () => {
        const client = createAccountClient(await freshRef());
        const { accountKey } = (client as unknown as { client: { http: { accountKey: unknown } } }).client.http;
        expect(accountKey).toBeInstanceOf(crypto.KeyObject);
        expect((accountKey as crypto.KeyObject).type).toBe("private");
    });

    it("returns one client for equal refs, even when the key is encoded differently", async () => {
        const ref = await freshRef();
        const sec1Pem = crypto.createPrivateKey(ref.accountKeyPem).export({ type: "sec1", format: "pem" }).toString();
        const client = accountClient(ref);
        expect(accountClient({ ...ref })).toBe(client);
        expect(accountClient({ ...ref, accountKeyPem: sec1Pem })).toBe(client);
        expect(accountClient({ ...ref, caCertificatesPem: `${ref.caCertificatesPem}\n` })).not.toBe(client);
        expect(accountClient({ ...ref, accountKeyPem: await generatePrivateKey({ algorithm: "ECDSA" }) })).not.toBe(
            client,
        );
    });
});
