// The main job (root Pulumi.yaml, program/) through the harness: one certificate for names in two hosted zones
// plus a CNAME-delegated name, delivered into a Secret that serves every name; onto a load balancer with
// short-lived certificates renewed in real time; and a config mistake told in one sentence.
import * as crypto from "node:crypto";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assertSucceeded, preview, up } from "../harness/index";
import { DnsUpdater, type PebbleServer, pebbleRootPem, startPebble } from "../stack/index";
import { uniqueName } from "../stack/names";
import {
    ACM_CERTIFICATE_TYPE,
    deliveredSecret,
    orderChallenges,
    plain,
    RECORD_TYPE,
    resourcesOfType,
} from "./delivered";
import { HOSTED_ZONE_IDS, PROGRAMS, type ProgramStack, programStack, txtValuesAt } from "./stacks";
import { handshakeEachName } from "./tls";

const stack = inject("stack");
const stacks: ProgramStack[] = [];

afterAll(() => {
    for (const created of stacks) created.remove();
});

function mainJob(config: Record<string, unknown>, pebble = stack.pebble): ProgramStack {
    const created = programStack(stack, PROGRAMS.mainJob, config, { pebble });
    stacks.push(created);
    return created;
}

describe("the main job, delivering into a Kubernetes Secret", () => {
    const apex = uniqueName("example.test", "m");
    const other = uniqueName("other.test", "m");
    // Delegated: other.test's owner points its challenge name, once, at a zone that only takes ACME records.
    const delegated = uniqueName("other.test", "d");
    const delegationTarget = `${delegated.split(".")[0]}.delegated.test`;
    const domains = [apex, `*.${apex}`, other, delegated];
    let site: ProgramStack;

    beforeAll(() => {
        new DnsUpdater(stack.bind).setCname(`_acme-challenge.${delegated}`, `_acme-challenge.${delegationTarget}`);
        site = mainJob({
            domains,
            hostedZones: HOSTED_ZONE_IDS,
            delegations: { [delegated]: delegationTarget },
            delivery: "kubernetes-secret",
        });
    });

    it("issues for apex + wildcard, a name in a second zone and a delegated name, each TXT value where it belongs", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        const secretName = `${apex.replaceAll(".", "-")}-tls`;
        expect(run.outputs).toMatchObject({
            dnsNames: domains,
            issuer: expect.stringMatching(/^Pebble Intermediate CA/),
            delivery: { kind: "kubernetes-secret", namespace: "default", secretName },
            deliveredTo: `Kubernetes Secret default/${secretName}`,
        });

        // One record per challenge name, each in the hosted zone that holds it; the delegated one at its target.
        const records = resourcesOfType(site.state, RECORD_TYPE).map((record) => ({
            zoneId: record.inputs.zoneId,
            name: record.inputs.name,
            values: (plain(record.inputs.records) as string[]).length,
        }));
        expect(records).toHaveLength(3);
        expect(records).toEqual(
            expect.arrayContaining([
                { zoneId: "ZEXAMPLETEST", name: `_acme-challenge.${apex}`, values: 2 },
                { zoneId: "ZOTHERTEST", name: `_acme-challenge.${other}`, values: 1 },
                { zoneId: "ZDELEGATEDTEST", name: `_acme-challenge.${delegationTarget}`, values: 1 },
            ]),
        );
        const expected = orderChallenges(site.state);
        const servedAt = (name: string) => txtValuesAt(stack.bind, `_acme-challenge.${name}`);
        expect(expected[`_acme-challenge.${apex}`]).toHaveLength(2);
        expect(await servedAt(apex)).toEqual(expected[`_acme-challenge.${apex}`]);
        expect(await servedAt(other)).toEqual(expected[`_acme-challenge.${other}`]);
        expect(await servedAt(delegationTarget)).toEqual(expected[`_acme-challenge.${delegated}`]);
        // The CA looks up the delegated name, and the CNAME leads it to the value.
        expect(await servedAt(delegated)).toEqual(expected[`_acme-challenge.${delegated}`]);

        const secret = deliveredSecret(site.state);
        const handshakes = await handshakeEachName({
            certificateChainPem: secret.tlsCrt,
            privateKeyPem: secret.tlsKey,
            rootPem: await pebbleRootPem(stack.pebble),
            names: domains,
        });
        expect(handshakes.filter((result) => !result.authorized)).toEqual([]);
        expect(handshakes.map((result) => result.serialNumber)).toEqual(Array(4).fill(run.outputs.serialNumber));
    });
});

describe("the main job, delivering onto a load balancer, with 60-second certificates", () => {
    const listenerArn =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/1f2e3d4c5b6a7988/0a1b2c3d4e5f6a7b";
    let pebble: PebbleServer;

    beforeAll(async () => {
        const dir = path.join(stack.dir, `programs-short-lived-${crypto.randomBytes(4).toString("hex")}`);
        pebble = await startPebble(dir, stack.bind.address, { validitySeconds: 60 });
    });

    afterAll(async () => {
        await pebble?.stop();
    });

    it("renews in real time once past renewAt (half the lifetime), into the same ACM ARN", async () => {
        const site = mainJob(
            {
                domains: [uniqueName("example.test", "s")],
                zone: "example.test",
                delivery: "load-balancer",
                listenerArn,
            },
            pebble,
        );
        const first = await up(site.options());
        assertSucceeded(first);
        const certificateArn = resourcesOfType(site.state, ACM_CERTIFICATE_TYPE)[0]!.id;
        expect(first.outputs.delivery).toEqual({ kind: "load-balancer", certificateArn, listenerArn });
        const lifetime = Date.parse(String(first.outputs.notAfter)) - Date.parse(String(first.outputs.notBefore));
        expect(Date.parse(String(first.outputs.renewAt))).toBe(
            Date.parse(String(first.outputs.notBefore)) + lifetime / 2,
        );

        await sleepUntil(Date.parse(String(first.outputs.renewAt)) + 1000);
        const renewed = await up(site.options({ refresh: true }));
        assertSucceeded(renewed);
        expect(renewed.outputs.serialNumber).not.toBe(first.outputs.serialNumber);
        expect(renewed.steps.find((step) => step.name === "site-lb-acm")?.op).toBe("update");
        expect(renewed.outputs.delivery).toEqual({ kind: "load-balancer", certificateArn, listenerArn });
    }, 120_000);
});

describe("the main job's config", () => {
    it("fails a preview with one sentence naming the key, before declaring anything", async () => {
        const site = mainJob({ domains: [uniqueName()], delivery: "ftp" });
        const run = await preview(site.options());
        expect(run.ok).toBe(false);
        expect(run.error?.message).toContain('config: delivery "ftp" is not one of kubernetes-secret, load-balancer');
        expect(run.steps.map((step) => step.op)).toEqual(["create"]);
    });
});

function sleepUntil(time: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}
