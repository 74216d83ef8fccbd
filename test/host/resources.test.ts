// Every resource through Pulumi's REAL dynamic-provider host over gRPC, as the engine drives it: the serialized
// provider is a short require() of the installed package, Check/Create/Diff/Read/Update/Delete work with the
// engine's marshalling (secrets stripped on the way in, re-marked on the way out), and a second, fresh host — a
// later `pulumi destroy` or `refresh` — works from saved state alone.
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { acme, capture } from "../components/helpers";
import { DynamicProviderHost, isSecret, serializeProvider, UNKNOWN } from "../harness/host";
import type { PropertyMap } from "../harness/values";
import { DnsUpdater, pebbleCertificateStatus } from "../stack/index";
import { uniqueName } from "../stack/names";

const stack = inject("stack");
const PROJECT = "host-test";
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");
const RESOURCES = ["PrivateKey", "CertificateRequest", "Registration", "Order", "Certificate"] as const;
type ResourceType = (typeof RESOURCES)[number];

/** The module each resource's provider lives in; this path is public API (stored in every stack's state). */
const PROVIDER_MODULE: Record<ResourceType, string> = {
    PrivateKey: "pulumi-acme-certs/dist/resources/privateKey.js",
    CertificateRequest: "pulumi-acme-certs/dist/resources/certificateRequest.js",
    Registration: "pulumi-acme-certs/dist/resources/registration.js",
    Order: "pulumi-acme-certs/dist/resources/order.js",
    Certificate: "pulumi-acme-certs/dist/resources/certificate.js",
};

/** The outputs each resource lists as additionalSecretOutputs: key material, nothing else. */
const SECRET_OUTPUTS: Record<ResourceType, string[]> = {
    PrivateKey: ["privateKeyPem"],
    CertificateRequest: [],
    Registration: ["accountKeyPem"],
    Order: ["accountKeyPem"],
    Certificate: ["accountKeyPem"],
};

const urn = (type: ResourceType, name: string) =>
    `urn:pulumi:dev::${PROJECT}::pulumi-nodejs:dynamic/pulumi-acme-certs:${type}::${name}`;

const providers = {} as Record<ResourceType, string>;
let host: DynamicProviderHost;

interface Created {
    type: ResourceType;
    urn: string;
    id: string;
    inputs: PropertyMap;
    outputs: PropertyMap;
}

beforeAll(async () => {
    for (const type of RESOURCES) {
        providers[type] = (
            await serializeProvider(require(path.join(REPOSITORY_ROOT, "node_modules", PROVIDER_MODULE[type])))
        ).text;
    }
    host = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
    await host.configure({});
});

afterAll(async () => {
    await host?.stop();
});

/** Check then Create through the host, as the engine does for a new resource. */
async function checkAndCreate(type: ResourceType, name: string, news: PropertyMap): Promise<Created> {
    const checked = await host.check(urn(type, name), {}, { ...news, __provider: providers[type] });
    expect(checked.failures).toEqual([]);
    const created = await host.create(urn(type, name), checked.inputs, {
        additionalSecretOutputs: SECRET_OUTPUTS[type],
    });
    return { type, urn: urn(type, name), id: created.id, inputs: checked.inputs, outputs: created.outputs };
}

const reveal = (value: unknown) => (isSecret(value) ? value.value : value);

describe("serialized providers", () => {
    it("every resource registers its provider as a short require() of the installed package", async () => {
        const captured = await capture(() => {
            const account = {
                directoryUrl: "https://acme.test/dir",
                accountUrl: "https://acme.test/acct/1",
                accountKeyPem: "k",
            };
            const key = new acme.PrivateKey("key", {});
            const csr = new acme.CertificateRequest("csr", {
                privateKeyPem: key.privateKeyPem,
                dnsNames: ["example.com"],
            });
            const order = new acme.Order("order", { account, csrPem: csr.csrPem });
            new acme.Registration("account", {
                directoryUrl: "https://acme.test/dir",
                accountKeyPem: "k",
                termsOfServiceAgreed: true,
            });
            new acme.Certificate("certificate", { account, order, csrPem: csr.csrPem });
        });
        const declaredAs: Record<ResourceType, string> = {
            PrivateKey: "key",
            CertificateRequest: "csr",
            Registration: "account",
            Order: "order",
            Certificate: "certificate",
        };
        for (const type of RESOURCES) {
            const registration = captured.find(declaredAs[type]);
            expect(registration.additionalSecretOutputs, `${type} lists its key material as secret`).toEqual(
                SECRET_OUTPUTS[type],
            );
            const registered = String(registration.inputs.__provider);
            expect(registered, type).toContain(`require("${PROVIDER_MODULE[type]}")`);
            expect(registered.length, `${type}'s __provider is short (nothing serialized by value)`).toBeLessThan(400);
            expect(registered, `${type}: what the program registers is what the host runs`).toBe(providers[type]);
        }
    });
});

describe("the lifecycle through the host", () => {
    const created = {} as Record<"accountKey" | "account" | "key" | "csr" | "order" | "certificate", Created>;
    const name = uniqueName();

    it("creates every resource, with exactly the listed outputs secret", async () => {
        created.accountKey = await checkAndCreate("PrivateKey", "account-key", {});
        created.account = await checkAndCreate("Registration", "account", {
            directoryUrl: stack.pebble.directoryUrl,
            accountKeyPem: created.accountKey.outputs.privateKeyPem!,
            termsOfServiceAgreed: true,
            email: "ops@example.test",
            caCertificatesPem: stack.pebble.listenerCaPem,
        });
        created.key = await checkAndCreate("PrivateKey", "key", { algorithm: "RSA" });
        created.csr = await checkAndCreate("CertificateRequest", "csr", {
            privateKeyPem: created.key.outputs.privateKeyPem!,
            dnsNames: [name.toUpperCase(), `*.${name}.`],
        });
        const account = created.account.outputs;
        const accountFields = {
            directoryUrl: account.directoryUrl!,
            accountUrl: account.accountUrl!,
            accountKeyPem: account.accountKeyPem!,
            caCertificatesPem: account.caCertificatesPem!,
        };
        created.order = await checkAndCreate("Order", "order", {
            ...accountFields,
            csrPem: created.csr.outputs.csrPem!,
        });
        const order = created.order.outputs;
        new DnsUpdater(stack.bind).setTxtRecordSets(
            order.dnsChallenges as Array<{ recordName: string; values: string[] }>,
        );
        created.certificate = await checkAndCreate("Certificate", "certificate", {
            ...accountFields,
            orderUrl: order.orderUrl!,
            challengeType: order.challengeType!,
            dnsNames: order.dnsNames!,
            authorizations: order.authorizations!,
            dnsChallenges: order.dnsChallenges!,
            csrPem: created.csr.outputs.csrPem!,
            propagation: { nameservers: [stack.bind.address], timeoutSeconds: 10, intervalSeconds: 0.2 },
        });

        expect(reveal(created.csr.outputs.dnsNames)).toEqual([name, `*.${name}`]);
        expect(String(created.certificate.outputs.certificatePem)).toMatch(/^-----BEGIN CERTIFICATE-----/);
        for (const resource of Object.values(created)) {
            const secrets = Object.keys(resource.outputs).filter((key) => isSecret(resource.outputs[key]));
            // The account key also arrives as a secret input, so the engine keeps it secret by name as well.
            expect(secrets.sort(), `${resource.type} ${resource.urn}`).toEqual(
                [...SECRET_OUTPUTS[resource.type]].sort(),
            );
        }
        // The CSR's key is a secret input, never echoed in its outputs.
        expect(isSecret(created.csr.inputs.privateKeyPem)).toBe(true);
        expect(created.csr.outputs.privateKeyPem).toBeUndefined();
        // Ids are never secret, so they are never derived from key material.
        for (const resource of Object.values(created)) expect(resource.id).not.toMatch(/PRIVATE KEY/);
    });

    it("diffs unchanged state as no change and refreshes it without drift", async () => {
        for (const resource of Object.values(created)) {
            const diff = await host.diff(resource.id, resource.urn, resource.outputs, resource.inputs, resource.inputs);
            expect(diff, `${resource.type} unchanged`).toEqual({
                changes: "none",
                replaces: [],
                deleteBeforeReplace: false,
            });
            if (resource.type === "Order") continue; // its first read adds the certificate it led to (below)
            const read = await host.read(resource.id, resource.urn, resource.outputs, resource.inputs, {
                additionalSecretOutputs: SECRET_OUTPUTS[resource.type],
            });
            expect(read.id).toBe(resource.id);
            expect(read.outputs, `${resource.type} read back unchanged`).toEqual(resource.outputs);
        }
        const order = created.order;
        const read = await host.read(order.id, order.urn, order.outputs, order.inputs, {
            additionalSecretOutputs: ["accountKeyPem"],
        });
        expect(read.outputs.certificateNotAfter).toBe(created.certificate.outputs.notAfter);
        const inverted = await host.diff(order.id, order.urn, read.outputs, order.inputs, order.inputs);
        expect(inverted.changes, "the refreshed order is not drift before its renewal point").toBe("none");
        order.outputs = read.outputs;
    });

    it("updates in place: a new contact at the CA, a state-only setting on the certificate", async () => {
        const account = created.account;
        const news = (await host.check(account.urn, account.inputs, { ...account.inputs, email: "new@example.test" }))
            .inputs;
        expect(await host.diff(account.id, account.urn, account.outputs, news, account.inputs)).toMatchObject({
            changes: "some",
            replaces: [],
        });
        const updated = await host.update(account.id, account.urn, account.outputs, news, account.inputs, {
            additionalSecretOutputs: ["accountKeyPem"],
        });
        expect(updated.outputs.contact).toEqual(["mailto:new@example.test"]);
        expect(isSecret(updated.outputs.accountKeyPem)).toBe(true);

        const certificate = created.certificate;
        const revoking = (
            await host.check(certificate.urn, certificate.inputs, { ...certificate.inputs, revokeOnDestroy: true })
        ).inputs;
        const next = await host.update(
            certificate.id,
            certificate.urn,
            certificate.outputs,
            revoking,
            certificate.inputs,
            {
                additionalSecretOutputs: ["accountKeyPem"],
            },
        );
        expect(next.outputs.serialNumber, "a state-only change does not reissue").toBe(
            certificate.outputs.serialNumber,
        );
        expect(next.outputs.revokeOnDestroy).toBe(true);
        certificate.outputs = next.outputs;
    });

    it("handles preview's unknown values: check passes them through, diff reports the change", async () => {
        const certificate = created.certificate;
        const preview = await host.check(certificate.urn, certificate.inputs, {
            ...certificate.inputs,
            orderUrl: UNKNOWN,
            csrPem: UNKNOWN,
        });
        expect(preview.failures).toEqual([]);
        expect(preview.inputs.orderUrl).toBe(UNKNOWN);
        expect(
            await host.diff(certificate.id, certificate.urn, certificate.outputs, preview.inputs, certificate.inputs),
        ).toMatchObject({
            changes: "some",
            replaces: [],
        });
    });

    it("a fresh host, with nothing but the saved state, reads and deletes everything", async () => {
        const later = await DynamicProviderHost.start({ cwd: REPOSITORY_ROOT, project: PROJECT });
        try {
            await later.configure({});
            for (const resource of Object.values(created).reverse()) {
                const read = await later.read(resource.id, resource.urn, resource.outputs, resource.inputs);
                expect(read.id).toBe(resource.id);
                await later.delete(resource.id, resource.urn, resource.outputs, resource.inputs);
            }
        } finally {
            await later.stop();
        }
        expect(await pebbleCertificateStatus(stack.pebble, String(created.certificate.outputs.serialNumber))).toBe(
            "Revoked",
        );
    });
});

describe("check failures", () => {
    it("come back to the engine as property and reason, before any request to the CA", async () => {
        const checked = await host.check(
            urn("Registration", "bad"),
            {},
            {
                __provider: providers.Registration,
                directoryUrl: "http://acme.test/dir",
                accountKeyPem: "not a key",
                termsOfServiceAgreed: false,
            },
        );
        expect(checked.failures.map((f) => f.property).sort()).toEqual([
            "accountKeyPem",
            "directoryUrl",
            "termsOfServiceAgreed",
        ]);
        expect(checked.failures.find((f) => f.property === "termsOfServiceAgreed")?.reason).toMatch(/must be true/);
    });
});
