// Component tests run programs under mocks against the INSTALLED package (node_modules/pulumi-acme-certs, a copy
// of dist/), as users load it: what is registered, with which inputs, parents, options and secrets.
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as library from "../../provider/index";
import { type Capture, type CaptureOptions, captureRegistrations, type Registration } from "../harness";
import { isSecret, type PropertyMap, type PropertyValue } from "../harness/values";

/** The package as a user's program gets it: Node's own loader, from the repository's node_modules. */
export const acme: typeof library = createRequire(path.resolve("package.json"))("pulumi-acme-certs");

export const DYNAMIC = (type: string) => `pulumi-nodejs:dynamic/pulumi-acme-certs:${type}`;

/** Outputs a finished Order would have: one record per name, two values where apex and wildcard share it. */
export function orderOutputs(registration: Registration): PropertyMap {
    // As the Order's check would normalise them.
    const given = (plain(registration.inputs.dnsNames) as string[] | null) ?? ["example.com", "*.example.com"];
    const names = given.map((name) => name.toLowerCase().replace(/\.$/, ""));
    const records = new Map<string, string[]>();
    for (const name of names) {
        const recordName = `_acme-challenge.${name.replace(/^\*\./, "")}`;
        records.set(recordName, [...(records.get(recordName) ?? []), `value-for-${name}`]);
    }
    return {
        ...registration.inputs,
        orderUrl: "https://acme.test/order/1",
        dnsChallenges: [...records].map(([recordName, values]) => ({ recordName, values })),
        httpChallenges: names.map((name, i) => ({
            domain: name,
            token: `token${i}`,
            path: `/.well-known/acme-challenge/token${i}`,
            keyAuthorization: `token${i}.thumbprint`,
        })),
    };
}

/** Answers each dynamic resource with plausible outputs, everything else with its inputs. */
export function answers(extra: CaptureOptions = {}): CaptureOptions {
    return {
        outputs: (registration) => {
            if (registration.type === DYNAMIC("Order")) return orderOutputs(registration);
            if (registration.type === DYNAMIC("PrivateKey")) {
                return {
                    ...registration.inputs,
                    privateKeyPem: "-----BEGIN PRIVATE KEY-----\nfixture\n-----END PRIVATE KEY-----\n",
                };
            }
            if (registration.type === "aws:acm/certificate:Certificate") {
                return { ...registration.inputs, arn: `arn:aws:acm:eu-west-1:1:certificate/${registration.name}` };
            }
            return { ...registration.inputs };
        },
        invoke: (token, inputs) => {
            if (token === "aws:route53/getZone:getZone" && inputs.name === "example.com") {
                return { zoneId: "ZEXAMPLECOM", name: "example.com", id: "ZEXAMPLECOM" };
            }
            throw new Error(`no hosted zone named ${String(inputs.name)}`);
        },
        ...extra,
    };
}

export function capture(program: () => unknown, options: CaptureOptions = answers()): Promise<Capture> {
    return captureRegistrations(program, options);
}

/** A wire value without its secret wrappers. */
export function plain(value: PropertyValue | undefined): PropertyValue | undefined {
    if (isSecret(value)) return plain(value.value);
    if (Array.isArray(value)) return value.map((v) => plain(v) as PropertyValue);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v) as PropertyValue]));
    }
    return value;
}

export { isSecret };
