// Secrets audit: a stack's whole life (create with External Account Binding, renewal reached by moving the
// host's clock, a failing preview, destroy) through the harness, then every state file written, every
// `__provider` text, everything the host and the CLI printed, every error message and every non-secret value is
// searched for private-key material: each base64 line of each private key (certificate key and account key), the
// base64 of their DER, and the EAB HMAC key. There must be none. The keys must be secret in state.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
    assertSucceeded,
    destroy,
    exportStack,
    type HarnessRun,
    isSecretOutput,
    preview,
    readState,
    up,
} from "../harness/index";
import type { StackState } from "../harness/state";
import { isSecret, type PropertyValue } from "../harness/values";
import type { PebbleServer } from "../stack/index";
import { uniqueName } from "../stack/names";
import { type ProgramStack, programStack } from "./stacks";
import { type CaProxy, keyMaterial, leaks, type Needle, startCaProxy, startOwnPebble } from "./support";

const stack = inject("stack");
const DAY = 86400;
const eab = { keyId: "kid-faults-audit", hmacKey: crypto.randomBytes(32).toString("base64url") };

let pebble: PebbleServer;
let proxy: CaProxy;
let program: ProgramStack;
const name = uniqueName();

/** Everything the runs left behind that is not supposed to hold a secret. */
const corpus: Array<{ where: string; text: string }> = [];
/** Decrypted states after each run: where the keys are read from. */
const states: StackState[] = [];
const runs: HarnessRun[] = [];

function collect(label: string, run: HarnessRun) {
    runs.push(run);
    corpus.push({ where: `${label}: CLI output`, text: run.display });
    corpus.push({ where: `${label}: host stdout/stderr`, text: run.diagnostics.map((l) => l.line).join("\n") });
    corpus.push({ where: `${label}: warnings`, text: run.warnings.join("\n") });
    if (run.error) corpus.push({ where: `${label}: error`, text: `${run.error.urn ?? ""} ${run.error.message}` });
    const outputs = Object.entries(run.outputs).filter(([, value]) => !isSecretOutput(value));
    corpus.push({ where: `${label}: non-secret stack outputs`, text: JSON.stringify(outputs) });
    if (!fs.existsSync(program.state)) return;
    corpus.push({ where: `${label}: state file`, text: fs.readFileSync(program.state, "utf8") });
    corpus.push({ where: `${label}: stack export`, text: JSON.stringify(exportStack(program.state)) });
    const state = readState(program.state)!;
    states.push(state);
    for (const resource of state.resources) {
        for (const [kind, map] of [
            ["inputs", resource.inputs],
            ["outputs", resource.outputs],
        ] as const) {
            for (const [key, value] of Object.entries(map)) {
                if (isSecret(value)) continue;
                const where = `${label}: ${resource.urn} ${kind}.${key}`;
                corpus.push({ where, text: typeof value === "string" ? value : JSON.stringify(value) });
            }
        }
    }
}

beforeAll(async () => {
    pebble = await startOwnPebble(stack, "secrets", {
        validitySeconds: 90 * DAY,
        externalAccountMacKeys: { [eab.keyId]: eab.hmacKey },
    });
    proxy = await startCaProxy(pebble);
    program = programStack(stack, { ca: proxy, domains: [name, `*.${name}`], eab });

    const created = await up(program.options());
    collect("create", created);
    assertSucceeded(created);
    // 61 days on, a third of the 90-day lifetime is left: due for renewal, which the refresh lets the Order see.
    const renewed = await up(program.options({ refresh: true, clockOffsetSeconds: 61 * DAY }));
    collect("renew", renewed);
    assertSucceeded(renewed);
    const failed = await preview(program.options({ config: { ...program.options().config, renewBefore: "120d" } }));
    collect("failing preview", failed);
    const destroyed = await destroy(program.options({ program: undefined }));
    collect("destroy", destroyed);
    assertSucceeded(destroyed);
}, 120_000);

afterAll(async () => {
    program?.remove();
    await proxy?.stop();
    await pebble?.stop();
});

const plain = (value: PropertyValue | undefined) => (isSecret(value) ? value.value : value);

/** The private keys the runs made (certificate key and account key), as stored in state. */
function privateKeys(): string[] {
    const keys = states.flatMap((state) =>
        state.resources
            .filter((resource) => resource.type.endsWith(":PrivateKey"))
            .map((resource) => String(plain(resource.outputs.privateKeyPem))),
    );
    return [...new Set(keys)];
}

/** PEM lines that encode nothing but public bytes (an EC key's last line is its public point): not secret. */
let publicOnlyLines = 0;

/** Every form of key material the runs made, and the EAB HMAC key: none may appear anywhere but in a secret. */
function needles(): Needle[] {
    publicOnlyLines = 0;
    const found = privateKeys().flatMap((pem, index) => {
        const material = keyMaterial(pem, `key ${index}`);
        publicOnlyLines += material.publicOnlyLines;
        return material.needles;
    });
    found.push({ what: "EAB HMAC key", text: eab.hmacKey });
    found.push({ what: "EAB HMAC key (hex)", text: Buffer.from(eab.hmacKey, "base64url").toString("hex") });
    return found;
}

describe("secrets audit of a stack's whole life", () => {
    it("the runs did what the audit needs: created, renewed, failed a preview, destroyed", () => {
        const [created, renewed, failed] = runs;
        expect(String(renewed!.outputs.serialNumber)).not.toBe(String(created!.outputs.serialNumber));
        expect(renewed!.outputs.keyFingerprint).toBe(created!.outputs.keyFingerprint);
        expect(failed!.ok).toBe(false);
        expect(failed!.error?.message).toMatch(/renewBefore 120d is not shorter than the certificate's lifetime/);
        // Two private keys (the account's and the certificate's), the same through renewal.
        expect(privateKeys()).toHaveLength(2);
    });

    it("no state file, __provider text, host or CLI output, error message or non-secret value holds key material", () => {
        const providers = states.flatMap((state) =>
            state.resources.flatMap((resource) => [resource.inputs.__provider, resource.outputs.__provider]),
        );
        const haystack = [
            ...corpus,
            ...providers
                .filter((text) => text !== undefined)
                .map((text) => ({ where: "__provider", text: String(text) })),
        ];
        const hits = leaks(haystack, needles());
        expect(hits).toEqual([]);
        console.log(
            `[faults] secrets audit: ${needles().length} needles in ${haystack.length} texts ` +
                `(${haystack.reduce((sum, entry) => sum + entry.text.length, 0)} characters): ${hits.length} hits; ` +
                `${publicOnlyLines} PEM lines hold only public-key bytes and are not searched for`,
        );
    });

    it("the search finds the keys where they are meant to be: in the decrypted secrets", () => {
        const decrypted = JSON.stringify(states);
        for (const needle of needles().filter((n) => n.what.includes("PEM line"))) {
            expect(decrypted).toContain(needle.text);
        }
    });

    it("the private keys, the account key and the EAB binding are secrets in state, and the stack's key output too", () => {
        const state = states[1]!;
        const secretAt = (type: string, kind: "inputs" | "outputs", key: string) => {
            const resources = state.resources.filter((resource) => resource.type.endsWith(`:${type}`));
            expect(resources.length, `${type} in state`).toBeGreaterThan(0);
            for (const resource of resources) {
                expect(isSecret(resource[kind][key]), `${resource.urn} ${kind}.${key} is secret`).toBe(true);
            }
        };
        secretAt("PrivateKey", "outputs", "privateKeyPem");
        secretAt("Registration", "inputs", "accountKeyPem");
        secretAt("Registration", "outputs", "accountKeyPem");
        secretAt("Registration", "inputs", "externalAccountBinding");
        secretAt("CertificateRequest", "inputs", "privateKeyPem");
        secretAt("Order", "inputs", "accountKeyPem");
        secretAt("Order", "outputs", "accountKeyPem");
        secretAt("Certificate", "inputs", "accountKeyPem");
        secretAt("Certificate", "outputs", "accountKeyPem");
        expect(isSecretOutput(runs[0]!.outputs.privateKeyPem)).toBe(true);
        // The HMAC key is used once, to register, and not kept in outputs.
        const registration = state.resources.find((resource) => resource.type.endsWith(":Registration"))!;
        expect(registration.outputs.externalAccountKeyId).toBe(eab.keyId);
        expect(Object.keys(registration.outputs)).not.toContain("externalAccountBinding");
    });
});
