// A CA that rejects half of all nonces (Pebble's PEBBLE_WFE_NONCEREJECT=50): every certificate must still be
// issued, through the providers, with the rejections absorbed by bounded retries signed with fresh nonces.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RegistrationOutputs } from "../../provider/resources/registration";
import { issue } from "../resources/issue";
import type { PebbleServer } from "../stack/index";
import { uniqueName } from "../stack/names";
import { type CaProxy, registerThrough, seen, startCaProxy, startOwnPebble } from "./support";

const stack = inject("stack");
const CERTIFICATES = 20;

let pebble: PebbleServer;
let proxy: CaProxy;
let account: RegistrationOutputs;

beforeAll(async () => {
    pebble = await startOwnPebble(stack, "nonce", { env: { PEBBLE_WFE_NONCEREJECT: "50" } });
    proxy = await startCaProxy(pebble);
    account = await registerThrough(stack, proxy, pebble);
});
afterAll(async () => {
    await proxy?.stop();
    await pebble?.stop();
});

describe("a CA that rejects half of all nonces", () => {
    it(`issues ${CERTIFICATES} certificates through Order, BIND records and Certificate with no failure`, async () => {
        proxy.resetCounts();
        const results = await Promise.allSettled(
            Array.from({ length: CERTIFICATES }, () => issue(stack, account, [uniqueName()])),
        );
        const failures = results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
        expect(failures).toEqual([]);

        const signed = proxy.requests.filter((request) => request.method === "POST");
        const badNonce = signed.filter((request) => request.status === 400);
        console.log(
            `[faults] NONCEREJECT=50: ${CERTIFICATES} certificates, ${signed.length} signed requests, ` +
                `${badNonce.length} badNonce answers retried, ${seen(proxy, "newNonce").length} newNonce, ` +
                `${seen(proxy, "newOrder").length} newOrder`,
        );
        // The knob works (about half of all signed requests are refused), and no rejection cost an extra order.
        expect(badNonce.length).toBeGreaterThan(signed.length / 4);
        expect(seen(proxy, "newOrder").filter((request) => request.status === 201)).toHaveLength(CERTIFICATES);
    });
});
