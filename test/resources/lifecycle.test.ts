// The resources' providers against the real Pebble and BIND: each flow a user runs, called the way the engine
// calls them (check, create, read, update, delete), without the engine.
import * as crypto from "node:crypto";
import { beforeAll, describe, expect, inject, it, vi } from "vitest";
import * as certificate from "../../provider/resources/certificate";
import * as certificateRequest from "../../provider/resources/certificateRequest";
import * as order from "../../provider/resources/order";
import * as privateKey from "../../provider/resources/privateKey";
import * as registration from "../../provider/resources/registration";
import { expectChainTo } from "../stack/chain";
import { pebbleCertificateStatus, pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { certificateArgs, checkAndCreate, issue, placeOrder, publish, registerAccount } from "./issue";

const stack = inject("stack");
let account: registration.RegistrationOutputs;
let root: string;

beforeAll(async () => {
    account = await registerAccount(stack);
    root = await pebbleRootPem(stack.pebble);
});

describe("issuing", () => {
    it("issues one name over DNS-01, chained to Pebble's root, for the CSR's key", async () => {
        const name = uniqueName();
        const { key, certificate: cert } = await issue(stack, account, [name]);
        const leaf = expectChainTo(cert.outs.fullChainPem, root, [name]);
        expect(leaf.checkPrivateKey(crypto.createPrivateKey(key.privateKeyPem))).toBe(true);
        expect(cert.outs.dnsNames).toEqual([name]);
        expect(cert.outs.serialNumber).toBe(leaf.serialNumber.toLowerCase());
        expect(Date.parse(cert.outs.notAfter) - Date.parse(cert.outs.notBefore)).toBeGreaterThan(80 * 86400_000);
        // Default policy: renew with a third of the lifetime left.
        const lifetime = Date.parse(cert.outs.notAfter) - Date.parse(cert.outs.notBefore);
        expect(Date.parse(cert.outs.renewAt)).toBeCloseTo(Date.parse(cert.outs.notAfter) - lifetime / 3, -1);
        expect(cert.outs.certificatePem + cert.outs.issuerPem).toBe(cert.outs.fullChainPem);
    });

    it("publishes apex and wildcard as one record with two values, and issues both", async () => {
        const apex = uniqueName();
        const { order: anOrder, certificate: cert } = await issue(stack, account, [apex, `*.${apex}`]);
        expect(anOrder.outs.dnsChallenges).toHaveLength(1);
        expect(anOrder.outs.dnsChallenges[0]).toMatchObject({ recordName: `_acme-challenge.${apex}` });
        expect(anOrder.outs.dnsChallenges[0]!.values).toHaveLength(2);
        expectChainTo(cert.outs.fullChainPem, root, [apex, `*.${apex}`]);
    });

    it("issues names from two zones in one certificate", async () => {
        const names = [uniqueName("example.test"), uniqueName("other.test")];
        const { certificate: cert } = await issue(stack, account, names);
        expectChainTo(cert.outs.fullChainPem, root, names);
    });

    it.each([
        ["RSA 2048", { algorithm: "RSA", rsaBits: 2048 }],
        ["ECDSA P-384", { algorithm: "ECDSA", ecdsaCurve: "P384" }],
    ] as const)("issues for a %s key", async (_kind, spec) => {
        const name = uniqueName();
        const { key, certificate: cert } = await issue(stack, account, [name], { key: spec });
        const leaf = expectChainTo(cert.outs.fullChainPem, root, [name]);
        expect(leaf.checkPrivateKey(crypto.createPrivateKey(key.privateKeyPem))).toBe(true);
        expect(key.algorithm).toBe(spec.algorithm);
    });

    it("issues over HTTP-01, served by the stack's responder", async () => {
        const name = uniqueName();
        const { order: anOrder, certificate: cert } = await issue(stack, account, [name], { challengeType: "http-01" });
        expect(anOrder.outs.httpChallenges).toEqual([
            expect.objectContaining({
                domain: name,
                path: `/.well-known/acme-challenge/${anOrder.outs.httpChallenges[0]!.token}`,
            }),
        ]);
        expectChainTo(cert.outs.fullChainPem, root, [name]);
    });
});

describe("failing clearly", () => {
    it("a wrong TXT value fails with the domain and the CA's detail, and the order is dead", async () => {
        const name = uniqueName();
        const failure = issue(stack, account, [name], {
            publish: () => ["not-the-right-value"],
            propagation: { skip: true },
        });
        await expect(failure).rejects.toThrow(
            new RegExp(`Unable to issue a certificate for ${name}:.*${name}.*pulumi up --refresh`),
        );
    });

    it("TXT values that never appear time out with what the nameserver returned, and the order stays usable", async () => {
        const name = uniqueName();
        const key = await checkAndCreate<privateKey.PrivateKeyOutputs>(privateKey, {});
        const csr = await checkAndCreate<{ csrPem: string }>(certificateRequest, {
            privateKeyPem: key.outs.privateKeyPem,
            dnsNames: [name],
        });
        const anOrder = await placeOrder(account, csr.outs.csrPem);
        const args = certificateArgs(stack, account, anOrder.outs, {
            propagation: { timeoutSeconds: 1, intervalSeconds: 0.2 },
        });
        await expect(checkAndCreate(certificate, args)).rejects.toThrow(
            new RegExp(
                `TXT _acme-challenge\\.${name.replace(/\./g, "\\.")} not visible.*returned.*fix the records and run \`pulumi up\` again`,
                "s",
            ),
        );
        // Fixing the cause and running again succeeds with the same order.
        await publish(stack, anOrder.outs);
        const cert = await checkAndCreate<certificate.CertificateOutputs>(certificate, args);
        expect(cert.outs.orderUrl).toBe(anOrder.outs.orderUrl);
    });
});

describe("state across runs", () => {
    it("a second create for an order already finalized downloads its certificate instead of ordering again", async () => {
        const name = uniqueName();
        const first = await issue(stack, account, [name]);
        const args = certificateArgs(stack, account, first.order.outs);
        const again = await checkAndCreate<certificate.CertificateOutputs>(certificate, args);
        expect(again.outs.serialNumber).toBe(first.certificate.outs.serialNumber);
    });

    it("refresh reads the order's certificate once, then makes no more requests and reports no drift", async () => {
        const name = uniqueName();
        const { order: anOrder, certificate: cert } = await issue(stack, account, [name]);
        const read = await order.read(anOrder.id, anOrder.outs);
        const refreshed = read.props as order.OrderOutputs;
        expect(refreshed.certificateNotAfter).toBe(cert.outs.notAfter);
        expect(refreshed.renewAt).toBe(cert.outs.renewAt);
        const again = await order.read(anOrder.id, refreshed);
        expect(again.props).toBe(refreshed);
        const inputs = (await order.check({}, { ...refreshed })).inputs as order.OrderInputs;
        expect((await order.diff(anOrder.id, refreshed, inputs)).changes).toBe(false);
        expect((await certificate.read(cert.id, cert.outs)).props).toEqual(cert.outs);
    });

    it("renews once due: a new order with new challenge values, a new serial, the old certificate not revoked", async () => {
        const name = uniqueName();
        const first = await issue(stack, account, [name]);
        const refreshed = (await order.read(first.order.id, first.order.outs)).props as order.OrderOutputs;
        const orderInputs = (await order.check({}, { ...refreshed })).inputs as order.OrderInputs;
        vi.useFakeTimers({ now: Date.parse(refreshed.renewAt!) + 1000, toFake: ["Date"] });
        try {
            expect((await order.diff(first.order.id, refreshed, orderInputs)).changes).toBe(true);
            const renewed = (await order.update(first.order.id, refreshed, orderInputs)).outs as order.OrderOutputs;
            expect(renewed.orderUrl).not.toBe(first.order.outs.orderUrl);
            expect(renewed.dnsChallenges[0]!.values).not.toEqual(first.order.outs.dnsChallenges[0]!.values);
            // Estimated from the previous certificate until a refresh sees the new one.
            expect(renewed.renewAt).not.toBeNull();
            await publish(stack, renewed);
            const certInputs = (await certificate.check({}, certificateArgs(stack, account, renewed)))
                .inputs as certificate.CertificateInputs;
            expect((await certificate.diff(first.certificate.id, first.certificate.outs, certInputs)).changes).toBe(
                true,
            );
            const next = (await certificate.update(first.certificate.id, first.certificate.outs, certInputs))
                .outs as certificate.CertificateOutputs;
            expect(next.serialNumber).not.toBe(first.certificate.outs.serialNumber);
            expect(Date.parse(next.notAfter)).toBeGreaterThan(Date.parse(first.certificate.outs.notAfter) - 1);
            // Renewal never revokes.
            expect(await pebbleCertificateStatus(stack.pebble, first.certificate.outs.serialNumber)).toBe("Valid");
        } finally {
            vi.useRealTimers();
        }
    });
});

describe("deleting", () => {
    it("deleting twice is fine: revocation, abandoned orders and deactivated accounts", async () => {
        const name = uniqueName();
        const { certificate: cert } = await issue(stack, account, [name]);
        const revoking = { ...cert.outs, revokeOnDestroy: true };
        await certificate.delete(cert.id, revoking);
        await certificate.delete(cert.id, revoking);
        expect(await pebbleCertificateStatus(stack.pebble, cert.outs.serialNumber)).toBe("Revoked");

        const pending = await placeOrder(account, (await issue(stack, account, [uniqueName()])).csr.csrPem);
        await order.delete(pending.id, pending.outs);
        await order.delete(pending.id, pending.outs);

        const own = await registerAccount(stack);
        const deactivating = { ...own, deactivateOnDelete: true };
        await registration.delete(own.accountUrl, deactivating);
        await registration.delete(own.accountUrl, deactivating);
    });

    it("the same account key registered again adopts the same account", async () => {
        const again = await checkAndCreate<registration.RegistrationOutputs>(registration, {
            directoryUrl: stack.pebble.directoryUrl,
            accountKeyPem: account.accountKeyPem,
            termsOfServiceAgreed: true,
            caCertificatesPem: stack.pebble.listenerCaPem,
        });
        expect(again.outs.accountUrl).toBe(account.accountUrl);
    });
});
