// examples/http01-kubernetes through the harness against Pebble: the Order's HTTP-01 tokens published by the
// in-cluster solver (its ConfigMap served to Pebble's validator by the stack's HTTP-01 responder), the certificate
// issued once the solver is up, delivered into a Secret; left alone; renewed by `up --refresh` with new tokens.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { assertSucceeded, type HarnessRun, up } from "../harness/index";
import { pebbleRootPem } from "../stack/index";
import { uniqueName } from "../stack/names";
import { deliveredSecret, libraryType, plain, resourceOfType } from "./delivered";
import { PAST_RENEWAL_POINT, PROGRAMS, type ProgramStack, programStack } from "./stacks";
import { handshakeEachName } from "./tls";

const stack = inject("stack");
const domains = [uniqueName("example.test", "h"), uniqueName("other.test", "h")];

let site: ProgramStack;
let rootPem: string;
let firstSerial: string;

beforeAll(async () => {
    site = programStack(stack, PROGRAMS.http01Kubernetes, { domains, namespace: "web", secretName: "site-tls" });
    rootPem = await pebbleRootPem(stack.pebble);
});

afterAll(() => site?.remove());

const changed = (run: HarnessRun) => run.steps.filter((step) => step.op !== "same").map((s) => `${s.op} ${s.name}`);

/** The tokens the solver's ConfigMap serves, and the ones the Order expects. */
function tokens() {
    const configMap = resourceOfType(site.state, "kubernetes:core/v1:ConfigMap");
    const order = resourceOfType(site.state, libraryType("Order"));
    const challenges = plain(order.outputs.httpChallenges) as Array<{ token: string; keyAuthorization: string }>;
    return {
        served: plain(configMap.outputs.data),
        expected: Object.fromEntries(challenges.map((c) => [c.token, c.keyAuthorization])),
    };
}

async function expectSecretServesEveryName(serialNumber: string): Promise<void> {
    const secret = deliveredSecret(site.state);
    const handshakes = await handshakeEachName({
        certificateChainPem: secret.tlsCrt,
        privateKeyPem: secret.tlsKey,
        rootPem,
        names: domains,
    });
    expect(handshakes).toEqual(domains.map((name) => ({ name, sni: name, authorized: true, serialNumber })));
}

describe("examples/http01-kubernetes", () => {
    it("issues through the solver's tokens and delivers a Secret that serves every name", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(new Set(run.steps.map((step) => step.op))).toEqual(new Set(["create"]));
        // The certificate waited for the whole solver, as `dependsOn: [solver]` asks.
        const names = run.steps.map((step) => step.name);
        for (const part of ["site-solver-tokens", "site-solver-server", "site-solver-service", "site-solver-ingress"]) {
            expect(names.indexOf(part)).toBeLessThan(names.indexOf("site-certificate"));
        }
        const { served, expected } = tokens();
        expect(Object.keys(expected)).toHaveLength(2);
        expect(served).toEqual(expected);
        firstSerial = String(run.outputs.serialNumber);
        expect(run.outputs).toMatchObject({ dnsNames: domains, secretNamespace: "web", secretName: "site-tls" });
        await expectSecretServesEveryName(firstSerial);
    });

    it("changes nothing on a second up", async () => {
        const run = await up(site.options());
        assertSucceeded(run);
        expect(changed(run)).toEqual([]);
    });

    it("up --refresh past the renewal point renews with new tokens and updates the Secret in place", async () => {
        const before = tokens();
        const run = await up(site.options({ refresh: true, clockOffsetSeconds: PAST_RENEWAL_POINT }));
        assertSucceeded(run);
        expect(changed(run).filter((step) => !step.startsWith("refresh-"))).toEqual([
            "update site-order",
            "update site-solver-tokens",
            "update site-solver-server",
            "update site-certificate",
            "update site-tls-secret",
        ]);
        const after = tokens();
        expect(after.served).toEqual(after.expected);
        expect(Object.keys(after.expected)).not.toEqual(Object.keys(before.expected));
        const serial = String(run.outputs.serialNumber);
        expect(serial).not.toBe(firstSerial);
        await expectSecretServesEveryName(serial);
    });
});
