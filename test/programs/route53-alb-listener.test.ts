// examples/route53-alb-listener through the harness against Pebble + BIND: the certificate imported into ACM and
// attached to an existing listener, left alone, renewed by `up --refresh` into the SAME ACM ARN; the other mode,
// a new HTTPS listener; and a key ACM cannot import failing the deployment with a message that says so.
import * as crypto from "node:crypto";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assertSucceeded, type HarnessRun, up } from "../harness/index";
import { issueTestCertificate } from "../harness/test-certificates";
import { expectChainTo } from "../stack/chain";
import { pebbleCertificateStatus, pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { ACM_CERTIFICATE_TYPE, plain, resourceOfType } from "./delivered";
import { PAST_RENEWAL_POINT, PROGRAMS, type ProgramStack, programStack } from "./stacks";

const stack = inject("stack");
const ELB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
const LISTENER_ARN = `${ELB_ARN}:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const LOAD_BALANCER_ARN = `${ELB_ARN}:loadbalancer/app/edge/50dc6c495c0c9188`;
const TARGET_GROUP_ARN = `${ELB_ARN}:targetgroup/web/73e2d6bc24d8a067`;
const UNUSABLE_KEY_PROGRAM = path.join(__dirname, "fixtures", "acm-unusable-key", "index.ts");

let rootPem: string;
const stacks: ProgramStack[] = [];

beforeAll(async () => {
    rootPem = await pebbleRootPem(stack.pebble);
});

afterAll(() => {
    for (const created of stacks) created.remove();
});

function albStack(config: Record<string, unknown>): ProgramStack {
    const created = programStack(stack, PROGRAMS.route53AlbListener, { zone: "example.test", ...config });
    stacks.push(created);
    return created;
}

const changed = (run: HarnessRun) => run.steps.filter((step) => step.op !== "same").map((s) => `${s.op} ${s.name}`);
const resourceNamed = (run: HarnessRun, name: string) => run.steps.filter((step) => step.name === name);

/** The ACM import in state: what ACM holds, under which ARN. */
function acmImport(site: ProgramStack) {
    const imported = resourceOfType(site.state, ACM_CERTIFICATE_TYPE);
    return {
        arn: String(imported.outputs.arn),
        certificateBody: String(plain(imported.inputs.certificateBody)),
        certificateChain: String(plain(imported.inputs.certificateChain)),
    };
}

describe("examples/route53-alb-listener, attached to an existing HTTPS listener", () => {
    const apex = uniqueName("example.test", "a");
    const domains = [apex, `www.${apex}`];
    let site: ProgramStack;
    let first: { serialNumber: string; arn: string };

    beforeAll(() => {
        site = albStack({ domains, listenerArn: LISTENER_ARN });
    });

    it("issues, imports into ACM (body = leaf, chain = intermediates) and attaches it to the listener", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(new Set(run.steps.map((step) => step.op))).toEqual(new Set(["create"]));
        const imported = acmImport(site);
        expect(run.outputs).toMatchObject({ certificateArn: imported.arn, httpsListenerArn: LISTENER_ARN });
        const leaf = expectChainTo(imported.certificateBody + imported.certificateChain, rootPem, domains);
        expect(leaf.serialNumber.toLowerCase()).toContain(String(run.outputs.serialNumber));
        const attachment = resourceOfType(site.state, "aws:lb/listenerCertificate:ListenerCertificate");
        expect(attachment.inputs).toMatchObject({ listenerArn: LISTENER_ARN, certificateArn: imported.arn });
        first = { serialNumber: String(run.outputs.serialNumber), arn: imported.arn };
    });

    it("changes nothing on a second up", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(changed(run)).toEqual([]);
    });

    it("up --refresh past the renewal point re-imports the renewed certificate into the same ACM ARN", async () => {
        const run = await up(site.options({ refresh: true, clockOffsetSeconds: PAST_RENEWAL_POINT }));
        assertSucceeded(run);
        expect(changed(run).filter((step) => !step.startsWith("refresh-"))).toEqual([
            "update site-order",
            `update site-records-_acme-challenge.${apex}`,
            `update site-records-_acme-challenge.www.${apex}`,
            "update site-certificate",
            "update site-lb-acm",
        ]);
        expect(resourceNamed(run, "site-lb-attachment").map((step) => step.op)).toEqual(["same"]);
        const serialNumber = String(run.outputs.serialNumber);
        expect(serialNumber).not.toBe(first.serialNumber);
        const imported = acmImport(site);
        expect(imported.arn).toBe(first.arn);
        expect(run.outputs.certificateArn).toBe(first.arn);
        const leaf = expectChainTo(imported.certificateBody + imported.certificateChain, rootPem, domains);
        expect(leaf.serialNumber.toLowerCase()).toContain(serialNumber);
        expect(await pebbleCertificateStatus(stack.pebble, first.serialNumber)).toBe("Valid");
    });
});

describe("examples/route53-alb-listener, with a new HTTPS listener", () => {
    it("creates an HTTPS listener on the load balancer, the certificate its default, forwarding to the target group", async () => {
        const site = albStack({
            domains: [uniqueName("example.test", "n")],
            loadBalancerArn: LOAD_BALANCER_ARN,
            targetGroupArn: TARGET_GROUP_ARN,
        });
        const run = await up(site.options());
        assertSucceeded(run);
        const listener = resourceOfType(site.state, "aws:lb/listener:Listener");
        expect(listener.inputs).toMatchObject({
            loadBalancerArn: LOAD_BALANCER_ARN,
            port: 443,
            protocol: "HTTPS",
            certificateArn: acmImport(site).arn,
            defaultActions: [{ type: "forward", targetGroupArn: TARGET_GROUP_ARN }],
        });
        expect(run.outputs.httpsListenerArn).toBe(listener.outputs.arn);
    });
});

describe("LoadBalancerCertificate given a key ACM cannot import", () => {
    it("fails the deployment with a message naming the keys ACM takes, and imports nothing", async () => {
        const certificate = await issueTestCertificate(uniqueName("example.test", "e"));
        const ed25519 = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" });
        const site = programStack(stack, UNUSABLE_KEY_PROGRAM, {
            certificatePem: certificate.certificatePem,
            issuerPem: certificate.chainPem,
            privateKeyPem: { secure: String(ed25519) },
            listenerArn: LISTENER_ARN,
        });
        stacks.push(site);
        const run = await up(site.options());
        expect(run.ok).toBe(false);
        expect(run.error?.message).toContain(
            "ACM cannot import this ed25519 key: use an ECDSA P256/P384 or RSA 2048–4096 key",
        );
        expect(run.steps.filter((step) => step.type === ACM_CERTIFICATE_TYPE)).toEqual([]);
    });
});
