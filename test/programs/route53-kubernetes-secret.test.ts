// examples/route53-kubernetes-secret, its whole life through the harness against Pebble + BIND: issued for apex +
// wildcard and served from the Secret, left alone, a plain `up` past the renewal point that cannot renew yet,
// refresh with and without drift, the renewal by `up --refresh`, and destroy. The tests run in order on one stack.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assertSucceeded, destroy, type HarnessRun, readState, refresh, up } from "../harness/index";
import { pebbleCertificateStatus, pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { deliveredSecret, orderChallenges } from "./delivered";
import { PAST_RENEWAL_POINT, PROGRAMS, type ProgramStack, programStack, txtValuesAt } from "./stacks";
import { handshakeEachName } from "./tls";

const stack = inject("stack");
const apex = uniqueName("example.test", "k");
const domains = [apex, `*.${apex}`];
const challengeName = `_acme-challenge.${apex}`;

let site: ProgramStack;
let rootPem: string;
/** The serial issued first: the renewal must replace it without revoking it. */
let firstSerial: string;

beforeAll(async () => {
    site = programStack(stack, PROGRAMS.route53KubernetesSecret, {
        domains,
        zone: "example.test",
        namespace: "web",
        secretName: "site-tls",
    });
    rootPem = await pebbleRootPem(stack.pebble);
});

afterAll(() => site?.remove());

const opOf = (run: HarnessRun, name: string) => run.steps.filter((step) => step.name === name).map((step) => step.op);
const changed = (run: HarnessRun) => run.steps.filter((step) => step.op !== "same").map((s) => `${s.op} ${s.name}`);
const orderChallengeValues = () => orderChallenges(site.state)[challengeName];

async function expectSecretServesEveryName(serialNumber: string): Promise<void> {
    const secret = deliveredSecret(site.state);
    expect(secret).toMatchObject({ namespace: "web", name: "site-tls", type: "kubernetes.io/tls" });
    const handshakes = await handshakeEachName({
        certificateChainPem: secret.tlsCrt,
        privateKeyPem: secret.tlsKey,
        rootPem,
        names: [...domains, `other-${apex}`],
    });
    expect(handshakes).toEqual([
        { name: apex, sni: apex, authorized: true, serialNumber },
        { name: `*.${apex}`, sni: `tls-check.${apex}`, authorized: true, serialNumber },
        // The control: a name the certificate is not for fails, so the two above mean something.
        expect.objectContaining({ authorized: false, authorizationError: "ERR_TLS_CERT_ALTNAME_INVALID" }),
    ]);
}

describe("examples/route53-kubernetes-secret", () => {
    it("issues for apex + wildcard and delivers a Secret whose tls.crt/tls.key serve both names", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(new Set(run.steps.map((step) => step.op))).toEqual(new Set(["create"]));
        firstSerial = String(run.outputs.serialNumber);
        expect(run.outputs).toMatchObject({
            dnsNames: domains,
            issuer: expect.stringMatching(/^Pebble Intermediate CA/),
            secretNamespace: "web",
            secretName: "site-tls",
        });
        // apex and wildcard share one TXT record set holding both values, exactly the order's.
        expect(await txtValuesAt(stack.bind, challengeName)).toEqual(orderChallengeValues());
        expect(orderChallengeValues()).toHaveLength(2);
        await expectSecretServesEveryName(firstSerial);
    });

    it("changes nothing on a second up", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(changed(run)).toEqual([]);
        expect(run.outputs.serialNumber).toBe(firstSerial);
    });

    it("past the renewal point without --refresh (first cycle): does not fail, keeps the certificate, says to refresh", async () => {
        const valuesBefore = await txtValuesAt(stack.bind, challengeName);
        const run = await up(site.options({ clockOffsetSeconds: PAST_RENEWAL_POINT }));
        assertSucceeded(run);
        // Only the Certificate notices (its renewal point is in its own state); it cannot renew from a spent order.
        expect(changed(run)).toEqual(["update site-certificate"]);
        expect(run.outputs.serialNumber).toBe(firstSerial);
        expect(opOf(run, "site-tls-secret")).toEqual(["same"]);
        expect(await txtValuesAt(stack.bind, challengeName)).toEqual(valuesBefore);
        expect(run.diagnostics.map((d) => d.line).join("\n")).toMatch(
            /not renewed in this run: run `pulumi up --refresh`/,
        );
    });

    it("refresh --expect-no-changes passes before the renewal point and reports drift after it", async () => {
        const before = await refresh({ ...site.stateOptions(), expectNoChanges: true });
        assertSucceeded(before);
        expect(before.driftDetected).toBe(false);

        const after = await refresh({
            ...site.stateOptions(),
            expectNoChanges: true,
            clockOffsetSeconds: PAST_RENEWAL_POINT,
        });
        expect(after.ok).toBe(false);
        expect(after.driftDetected).toBe(true);
        expect(after.steps.filter((s) => s.op === "refresh-drift").map((s) => s.name)).toEqual([
            "site-order",
            "site-certificate",
        ]);
        expect(after.error?.message).toContain("no changes were expected but changes occurred");
    });

    it("up --refresh past the renewal point renews order, TXT records and certificate, updating the Secret in place", async () => {
        const secretBefore = deliveredSecret(site.state);
        const valuesBefore = await txtValuesAt(stack.bind, challengeName);
        const run = await up(site.options({ refresh: true, clockOffsetSeconds: PAST_RENEWAL_POINT }));
        assertSucceeded(run);
        expect(changed(run).filter((step) => !step.startsWith("refresh-"))).toEqual([
            "update site-order",
            `update site-records-_acme-challenge.${apex}`,
            "update site-certificate",
            "update site-tls-secret",
        ]);
        const serial = String(run.outputs.serialNumber);
        expect(serial).not.toBe(firstSerial);

        const valuesAfter = await txtValuesAt(stack.bind, challengeName);
        expect(valuesAfter).toEqual(orderChallengeValues());
        expect(valuesAfter).not.toEqual(valuesBefore);

        // In place: the same object (id, namespace, name), new content; nothing replaced or deleted.
        const secretAfter = deliveredSecret(site.state);
        expect(run.steps.some((step) => step.op === "replace" || step.op === "delete")).toBe(false);
        expect(secretAfter).toMatchObject({ id: secretBefore.id, namespace: "web", name: "site-tls" });
        expect(secretAfter.tlsCrt).not.toBe(secretBefore.tlsCrt);
        expect(secretAfter.annotations["pulumi-acme-certs/serial-number"]).toBe(serial);
        await expectSecretServesEveryName(serial);

        // Renewal never revokes: the old certificate stays valid until it expires.
        expect(await pebbleCertificateStatus(stack.pebble, firstSerial)).toBe("Valid");
    });

    it("destroy removes the TXT records from BIND and everything from state", async () => {
        expect(await txtValuesAt(stack.bind, challengeName)).toHaveLength(2);
        const run = await destroy(site.stateOptions());
        assertSucceeded(run);
        expect(opOf(run, `site-records-_acme-challenge.${apex}`)).toEqual(["delete"]);
        expect(opOf(run, "site-tls-secret")).toEqual(["delete"]);
        expect(await txtValuesAt(stack.bind, challengeName)).toEqual([]);
        expect(readState(site.state)?.resources).toEqual([]);
    });
});
