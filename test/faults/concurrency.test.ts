// Twenty certificates under one account at once, in one real dynamic-provider host, as the engine runs
// independent resources in parallel: 20 Order creates at the same time, their records, then 20 Certificate
// creates at the same time. No failure, and no nonce or account race (no badNonce, one newAccount).
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCsr } from "../../provider/crypto/csr";
import { generatePrivateKey } from "../../provider/crypto/keys";
import type * as Library from "../../provider/index";
import { captureRegistrations } from "../harness/capture";
import { DynamicProviderHost } from "../harness/host";
import type { Registration } from "../harness/monitor";
import { isSecret, type PropertyMap, type PropertyValue } from "../harness/values";
import { expectChainTo } from "../stack/chain";
import { DnsUpdater, pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { type CaProxy, ordersCreated, seen, startCaProxy } from "./support";

const stack = inject("stack");
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");
const PROJECT = "faults-concurrency";
const COUNT = 20;

const acme = (): typeof Library => require("pulumi-acme-certs");
const plain = (value: PropertyValue | undefined) => (isSecret(value) ? value.value : value);

let proxy: CaProxy;
let host: DynamicProviderHost;

beforeAll(async () => {
    proxy = await startCaProxy(stack.pebble);
    host = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
    await host.configure({});
});
afterAll(async () => {
    await host?.stop();
    await proxy?.stop();
});

/** What a program registers, captured under mocks (so inputs and `__provider` are as the engine gets them). */
async function registrations(program: (lib: typeof Library) => void): Promise<Registration[]> {
    const capture = await captureRegistrations(() => program(acme()), { project: PROJECT });
    return capture.registrations.filter((r) => r.custom);
}

/** Check, then Create, through the host, as one engine step. */
async function checkAndCreate(resource: Registration): Promise<PropertyMap> {
    const { inputs, failures } = await host.check(resource.urn, {}, resource.inputs);
    expect(failures).toEqual([]);
    const created = await host.create(resource.urn, inputs, {
        additionalSecretOutputs: resource.additionalSecretOutputs,
    });
    return created.outputs;
}

describe("one account, one provider host, twenty certificates at once", () => {
    it(`issues ${COUNT} certificates from ${COUNT} parallel Order creates and ${COUNT} parallel Certificate creates`, async () => {
        const [accountKey] = await registrations((lib) => void new lib.PrivateKey("account-key"));
        const accountKeyPem = String(plain((await checkAndCreate(accountKey!)).privateKeyPem));
        const [registration] = await registrations(
            (lib) =>
                void new lib.Registration("account", {
                    directoryUrl: proxy.directoryUrl,
                    caCertificatesPem: proxy.caPem,
                    accountKeyPem,
                    termsOfServiceAgreed: true,
                }),
        );
        const registered = await checkAndCreate(registration!);
        const account = {
            directoryUrl: proxy.directoryUrl,
            accountUrl: String(registered.accountUrl),
            accountKeyPem,
            caCertificatesPem: proxy.caPem,
        };
        proxy.resetCounts();

        const sites = await Promise.all(
            Array.from({ length: COUNT }, async () => {
                const name = uniqueName();
                const keyPem = await generatePrivateKey({ algorithm: "ECDSA" });
                return { name, csrPem: await createCsr(keyPem, [name]) };
            }),
        );
        const orders = await registrations((lib) => {
            sites.forEach(({ name, csrPem }, index) => {
                new lib.Order(`order-${index}`, { account, csrPem, dnsNames: [name] });
            });
        });
        const placed = await Promise.all(orders.map(checkAndCreate));

        new DnsUpdater(stack.bind).setTxtRecordSets(
            placed.flatMap((outputs) => outputs.dnsChallenges as Array<{ recordName: string; values: string[] }>),
        );

        const certificates = await registrations((lib) => {
            placed.forEach((outputs, index) => {
                new lib.Certificate(`certificate-${index}`, {
                    account,
                    order: {
                        orderUrl: String(outputs.orderUrl),
                        challengeType: "dns-01",
                        dnsNames: outputs.dnsNames as string[],
                        authorizations: outputs.authorizations as unknown as Library.OrderAuthorization[],
                        dnsChallenges: outputs.dnsChallenges as unknown as Library.DnsChallengeRecord[],
                    },
                    csrPem: sites[index]!.csrPem,
                    propagation: { nameservers: [stack.bind.address], timeoutSeconds: 20, intervalSeconds: 0.2 },
                });
            });
        });
        const results = await Promise.allSettled(certificates.map(checkAndCreate));
        const failures = results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
        expect(failures).toEqual([]);

        const root = await pebbleRootPem(stack.pebble);
        results.forEach((result, index) => {
            const outputs = (result as PromiseFulfilledResult<PropertyMap>).value;
            expectChainTo(String(outputs.fullChainPem), root, [sites[index]!.name]);
        });
        const counts = proxy.countByKind();
        console.log(`[faults] ${COUNT} concurrent certificates, requests by kind: ${JSON.stringify(counts)}`);
        expect(proxy.requests.filter((request) => request.status === 400)).toEqual([]);
        expect(seen(proxy, "newAccount")).toEqual([]);
        expect(ordersCreated(proxy)).toBe(COUNT);
        // One client for the account in the host: its nonce pool feeds the parallel requests after the first few.
        expect(seen(proxy, "newNonce").length).toBeLessThanOrEqual(COUNT);
        expect(seen(proxy, "directory").length).toBeLessThanOrEqual(1);
    });
});
