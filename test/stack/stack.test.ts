// Proves the test stack itself: a certificate for apex + wildcard from Pebble over DNS-01, the TXT values
// placed in BIND by RFC 2136 updates, Pebble validating them by querying BIND, the chain checked against
// Pebble's root. Uses acme-client directly; later suites run the same flow through our resources.
import * as crypto from "node:crypto";
import * as dns from "node:dns";
import * as https from "node:https";
import * as acme from "acme-client";
import { describe, expect, inject, it } from "vitest";
import { DnsUpdater, pebbleRootPem } from "./index";
import { uniqueName } from "./names";

const stack = inject("stack");

describe("test stack", () => {
    it("BIND serves the test zones with a wildcard A record and accepts TSIG updates", async () => {
        const resolver = new dns.promises.Resolver();
        resolver.setServers([stack.bind.address]);
        for (const zone of stack.bind.zones) {
            expect((await resolver.resolveSoa(zone)).nsname).toBe(`ns1.${zone}`);
            expect(await resolver.resolve4(uniqueName(zone))).toEqual(["127.0.0.1"]);
        }
        const name = `_acme-challenge.${uniqueName()}`;
        const updater = new DnsUpdater(stack.bind);
        updater.setTxt(name, ["first", "second"]);
        expect((await resolver.resolveTxt(name)).flat().sort()).toEqual(["first", "second"]);
        updater.clearTxt(name);
        await expect(resolver.resolveTxt(name)).rejects.toMatchObject({ code: "ENODATA" });
    });

    it("BIND takes many TXT record sets in several zones at once, each replaced as setTxt would", async () => {
        const resolver = new dns.promises.Resolver();
        resolver.setServers([stack.bind.address]);
        const [kept, replaced, emptied] = [1, 2, 3].map(() => `_acme-challenge.${uniqueName()}`);
        const elsewhere = `_acme-challenge.${uniqueName("other.test")}`;
        const updater = new DnsUpdater(stack.bind);
        updater.setTxt(replaced!, ["old"]);
        updater.setTxt(emptied!, ["old"]);
        updater.setTxtRecordSets([
            { recordName: kept!, values: ["a", "b"] },
            { recordName: replaced!, values: ["new"] },
            { recordName: emptied!, values: [] },
            { recordName: elsewhere, values: ["other zone"] },
        ]);
        expect((await resolver.resolveTxt(kept!)).flat().sort()).toEqual(["a", "b"]);
        expect((await resolver.resolveTxt(replaced!)).flat()).toEqual(["new"]);
        await expect(resolver.resolveTxt(emptied!)).rejects.toMatchObject({ code: "ENODATA" });
        expect((await resolver.resolveTxt(elsewhere)).flat()).toEqual(["other zone"]);
    });

    it("Pebble issues apex + wildcard over DNS-01 validated against BIND, chained to its root", async () => {
        acme.axios.defaults.httpsAgent = new https.Agent({ ca: stack.pebble.listenerCaPem });
        const apex = uniqueName();
        const client = new acme.Client({
            directoryUrl: stack.pebble.directoryUrl,
            accountKey: await acme.crypto.createPrivateEcdsaKey(),
        });
        const [key, csr] = await acme.crypto.createCsr({ commonName: apex, altNames: [apex, `*.${apex}`] });
        const updater = new DnsUpdater(stack.bind);
        const values = new Map<string, string[]>();
        const pem = await client.auto({
            csr,
            email: "ops@example.test",
            termsOfServiceAgreed: true,
            challengePriority: ["dns-01"],
            skipChallengeVerification: true,
            // apex and wildcard share one TXT name: keep every value of the name in one record set
            challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
                const name = `_acme-challenge.${authz.identifier.value}`;
                values.set(name, [...(values.get(name) ?? []), keyAuthorization]);
                updater.setTxt(name, values.get(name)!);
            },
            challengeRemoveFn: async () => {},
        });
        expect(values.get(`_acme-challenge.${apex}`)).toHaveLength(2);

        const [leafPem, ...issuerPems] = acme.crypto.splitPemChain(pem);
        const leaf = new crypto.X509Certificate(leafPem!);
        const chain = [leaf, ...issuerPems.map((p) => new crypto.X509Certificate(p))];
        const root = new crypto.X509Certificate(await pebbleRootPem(stack.pebble));
        for (let i = 0; i < chain.length; i++) {
            expect(chain[i]!.verify((chain[i + 1] ?? root).publicKey)).toBe(true);
        }
        expect(leaf.checkHost(apex)).toBe(apex);
        expect(leaf.checkHost(`www.${apex}`)).toBe(`*.${apex}`);
        expect(leaf.checkPrivateKey(crypto.createPrivateKey(key))).toBe(true);
    });
});
