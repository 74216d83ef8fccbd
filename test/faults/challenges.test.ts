// Challenges that fail, through the providers against Pebble and BIND: a wrong TXT value the CA sees, TXT records
// that never appear within the propagation timeout, an HTTP-01 token nobody serves. Each error names the domain,
// what was expected, what each nameserver returned (DNS) and the CA's problem detail; fixing the cause and running
// again as the message says (for a dead order: `pulumi up --refresh`) issues the certificate.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import * as certificate from "../../provider/resources/certificate";
import * as certificateRequest from "../../provider/resources/certificateRequest";
import * as order from "../../provider/resources/order";
import * as privateKey from "../../provider/resources/privateKey";
import type { RegistrationOutputs } from "../../provider/resources/registration";
import { certificateArgs, checkAndCreate, placeOrder, publish, registerAccount } from "../resources/issue";
import { expectChainTo } from "../stack/chain";
import { DnsUpdater, pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { startHttp01Server } from "./http01Server";
import { startSlowDns } from "./slowDns";
import { keyMaterialIn, literal, startOwnPebble } from "./support";

const stack = inject("stack");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
    for (const stop of stops) await stop();
});
let account: RegistrationOutputs;
let root: string;

beforeAll(async () => {
    account = await registerAccount(stack);
    root = await pebbleRootPem(stack.pebble);
});

/** Every error message of this file and every private key behind it: audited at the end for key material. */
const messages: string[] = [];
const privateKeys: string[] = [];

async function orderFor(name: string, challengeType: order.ChallengeType = "dns-01", by = account) {
    const key = await checkAndCreate<privateKey.PrivateKeyOutputs>(privateKey, {});
    privateKeys.push(key.outs.privateKeyPem, by.accountKeyPem);
    const csr = await checkAndCreate<{ csrPem: string }>(certificateRequest, {
        privateKeyPem: key.outs.privateKeyPem,
        dnsNames: [name],
    });
    return placeOrder(by, csr.outs.csrPem, { challengeType });
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
    const message = await promise.then(
        () => {
            throw new Error("expected the certificate to fail");
        },
        (error: Error) => error.message,
    );
    messages.push(message);
    return message;
}

/**
 * What the engine does on `pulumi up --refresh` after a Certificate failed for a dead order: refresh reads the
 * Order, whose diff then places a new order (update), the program's records publish its values, and the
 * Certificate (not in state, since its create failed) is created from the new order.
 */
async function upWithRefresh(placed: { id: string; outs: order.OrderOutputs }) {
    const refreshed = (await order.read(placed.id, placed.outs)).props as order.OrderOutputs;
    expect(refreshed.status).toBe("invalid");
    const inputs = (await order.check({}, { ...refreshed })).inputs as order.OrderInputs;
    expect((await order.diff(placed.id, refreshed, inputs)).changes).toBe(true);
    const renewed = (await order.update(placed.id, refreshed, inputs)).outs as order.OrderOutputs;
    expect(renewed.orderUrl).not.toBe(placed.outs.orderUrl);
    return renewed;
}

describe.concurrent("a challenge the CA refuses", () => {
    it("a wrong TXT value fails with the domain, the expected value and the CA's detail; `pulumi up --refresh` with the record fixed issues", async () => {
        const name = uniqueName();
        const placed = await orderFor(name);
        const [record] = placed.outs.dnsChallenges;
        new DnsUpdater(stack.bind).setTxt(record!.recordName, ["not-the-right-value"]);
        // Propagation is skipped, as with split-horizon DNS: only the CA can tell the value is wrong.
        const args = certificateArgs(stack, account, placed.outs, { propagation: { skip: true } });
        const message = await failureOf(checkAndCreate(certificate, args));
        console.log(`[faults] wrong TXT value: ${message}`);
        expect(message).toMatch(new RegExp(`^Unable to issue a certificate for ${literal(name)}: `));
        expect(message).toMatch(new RegExp(`Unable to validate ${literal(name)}: Correct value not found`));
        expect(message).toMatch(/\(urn:ietf:params:acme:error:unauthorized\)/);
        expect(message).toContain(`expected TXT ${record!.recordName} to hold ${JSON.stringify(record!.values)}`);
        expect(message).toMatch(/Run `pulumi up --refresh` to place a new order/);

        const renewed = await upWithRefresh(placed);
        await publish(stack, renewed);
        const issued = await checkAndCreate<certificate.CertificateOutputs>(
            certificate,
            certificateArgs(stack, account, renewed, { propagation: { skip: true } }),
        );
        expectChainTo(issued.outs.fullChainPem, root, [name]);
    });

    it("an HTTP-01 token the web server answers with 404 fails with the domain, the expected answer and the CA's detail; `pulumi up --refresh` with the token served issues", async () => {
        const web = await startHttp01Server();
        const pebble = await startOwnPebble(stack, "http01", { httpPort: web.port });
        try {
            const own = await registerAccount(stack, pebble);
            const name = uniqueName();
            const placed = await orderFor(name, "http-01", own);
            const [challenge] = placed.outs.httpChallenges;
            const message = await failureOf(checkAndCreate(certificate, certificateArgs(stack, own, placed.outs)));
            console.log(`[faults] HTTP-01 404: ${message}`);
            expect(web.requests).toContainEqual({ path: challenge!.path, status: 404 });
            expect(message).toMatch(new RegExp(`^Unable to issue a certificate for ${literal(name)}: `));
            expect(message).toMatch(new RegExp(`Unable to validate ${literal(name)}: .*404`));
            expect(message).toMatch(/\(urn:ietf:params:acme:error:unauthorized\)/);
            expect(message).toContain(
                `expected http://${name}${challenge!.path} to answer ${JSON.stringify(challenge!.keyAuthorization)}`,
            );
            expect(message).toMatch(/Run `pulumi up --refresh` to place a new order/);

            const renewed = await upWithRefresh(placed);
            for (const next of renewed.httpChallenges) web.serve(next.token, next.keyAuthorization);
            const issued = await checkAndCreate<certificate.CertificateOutputs>(
                certificate,
                certificateArgs(stack, own, renewed),
            );
            expectChainTo(issued.outs.fullChainPem, await pebbleRootPem(pebble), [name]);
        } finally {
            await pebble.stop();
            await web.stop();
        }
    });
});

describe.concurrent("TXT records that do not propagate in time", () => {
    it("a missing record times out naming it, the expected value and each nameserver's answer; the order stays, and running again once published issues", async () => {
        const name = uniqueName();
        const placed = await orderFor(name);
        const [record] = placed.outs.dnsChallenges;
        // A second nameserver that refuses to answer (yet).
        const silent = await startSlowDns(stack.bind, 0);
        silent.refusing = true;
        stops.push(() => silent.stop());
        const args = certificateArgs(stack, account, placed.outs, {
            propagation: { nameservers: [stack.bind.address, silent.address], timeoutSeconds: 1, intervalSeconds: 0.2 },
        });
        const message = await failureOf(checkAndCreate(certificate, args));
        console.log(`[faults] TXT missing: ${message}`);
        expect(message).toMatch(new RegExp(`^Unable to issue a certificate for ${literal(name)}: `));
        expect(message).toContain(`TXT ${record!.recordName} not visible after`);
        expect(message).toContain(`expected ${JSON.stringify(record!.values)}`);
        expect(message).toContain(`${stack.bind.address} returned NODATA`);
        expect(message).toContain(`${silent.address} returned refused`);
        expect(message).toMatch(/raise propagation\.timeoutSeconds \(now 1\)/);
        expect(message).toMatch(/The order stays open until .*: fix the records and run `pulumi up` again\.$/);

        await publish(stack, placed.outs);
        silent.refusing = false;
        const issued = await checkAndCreate<certificate.CertificateOutputs>(certificate, args);
        expect(issued.outs.orderUrl).toBe(placed.outs.orderUrl);
        expectChainTo(issued.outs.fullChainPem, root, [name]);
    });

    it("a record with a stale value times out saying which value is missing and what the nameserver has", async () => {
        const name = uniqueName();
        const placed = await orderFor(name);
        const [record] = placed.outs.dnsChallenges;
        new DnsUpdater(stack.bind).setTxt(record!.recordName, ["stale-value-from-last-time"]);
        const args = certificateArgs(stack, account, placed.outs, {
            propagation: { timeoutSeconds: 1, intervalSeconds: 0.2 },
        });
        const message = await failureOf(checkAndCreate(certificate, args));
        expect(message).toContain(`missing ${JSON.stringify(record!.values)}`);
        expect(message).toContain(`${stack.bind.address} returned ["stale-value-from-last-time"]`);

        await publish(stack, placed.outs);
        const issued = await checkAndCreate<certificate.CertificateOutputs>(certificate, args);
        expect(issued.outs.orderUrl).toBe(placed.outs.orderUrl);
    });
});

describe("the error messages above", () => {
    it("hold no key material of the certificate keys or the account keys", () => {
        expect(messages.length).toBeGreaterThanOrEqual(4);
        expect(keyMaterialIn(messages, privateKeys)).toEqual([]);
    });
});
