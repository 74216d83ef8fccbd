// Shared pieces of the fault suite: extra Pebbles with fault knobs, counting proxies in front of them, accounts
// registered through the Registration provider, and small readers of what the proxy saw.
import * as crypto from "node:crypto";
import * as path from "node:path";
import type { RegistrationOutputs } from "../../provider/resources/registration";
import { registerAccount } from "../resources/issue";
import { type CaProxy, type RequestKind, startCaProxy } from "../stack/caProxy";
import type { PebbleInfo, PebbleOptions, PebbleServer, TestStackInfo } from "../stack/index";
import { startPebble } from "../stack/index";

/** A Pebble of this test file's own, against the stack's BIND, in a directory under the stack's. */
export function startOwnPebble(stack: TestStackInfo, name: string, options: PebbleOptions = {}): Promise<PebbleServer> {
    const dir = path.join(stack.dir, `faults-${name}-${crypto.randomBytes(4).toString("hex")}`);
    return startPebble(dir, stack.bind.address, options);
}

/** The CA as clients see it through `proxy`: its directory, and the proxy's certificate as the CA bundle. */
export function throughProxy(proxy: Pick<CaProxy, "directoryUrl" | "caPem">, pebble: PebbleInfo): PebbleInfo {
    return { ...pebble, directoryUrl: proxy.directoryUrl, listenerCaPem: proxy.caPem };
}

/** A fresh account key registered through the Registration provider, talking to the CA through `proxy`. */
export function registerThrough(
    stack: TestStackInfo,
    proxy: Pick<CaProxy, "directoryUrl" | "caPem">,
    pebble: PebbleInfo = stack.pebble,
): Promise<RegistrationOutputs> {
    return registerAccount(stack, throughProxy(proxy, pebble));
}

export { type CaProxy, startCaProxy };

export const ofKind =
    (...kinds: RequestKind[]) =>
    (request: { kind: RequestKind }) =>
        kinds.includes(request.kind);

/** The requests of these kinds the proxy saw, in order. */
export function seen(proxy: CaProxy, ...kinds: RequestKind[]) {
    return proxy.requests.filter(ofKind(...kinds));
}

/** Orders the CA actually made: newOrder requests Pebble answered with 201. */
export function ordersCreated(proxy: CaProxy): number {
    return seen(proxy, "newOrder").filter((request) => request.status === 201).length;
}

/** The status of each request of these kinds, in order (null: the proxy reset the connection). */
export function statuses(proxy: CaProxy, ...kinds: RequestKind[]): Array<number | null> {
    return seen(proxy, ...kinds).map((request) => request.status);
}

/**
 * The gaps, in ms, between the end of each answered request and the start of the next request of the same kinds:
 * at least the client's sleep in between, since it slept after receiving the answer and before sending again. Timers
 * are measured on a loop clock that may read up to a millisecond early, so the gaps are rounded up by that much.
 */
export function gapsAfterEach(proxy: CaProxy, ...kinds: RequestKind[]): number[] {
    const requests = seen(proxy, ...kinds);
    return requests.slice(1).map((request, index) => Math.ceil(request.startedAt - requests[index]!.endedAt) + 1);
}

/** A problem document as a CA would send it. */
export function problemResponse(status: number, type: string, detail: string, headers: Record<string, string> = {}) {
    return {
        type: "respond" as const,
        status,
        headers: { "content-type": "application/problem+json", ...headers },
        body: JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail, status }),
    };
}

/** Escapes a literal for a RegExp. */
export function literal(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One form of secret material to search for. */
export interface Needle {
    what: string;
    text: string;
}

/**
 * The forms in which a private key could leak: each PEM line that carries bytes of a private component (lines
 * holding only public-key bytes, such as an EC key's public point, also appear in CSRs and certificates and are not
 * secret), the whole DER (base64, base64url, hex), and each private component itself (EC: d; RSA: d, p, q, dp,
 * dq, qi) in base64, base64url and hex.
 */
export function keyMaterial(pem: string, label: string): { needles: Needle[]; publicOnlyLines: number } {
    const body = pem.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"));
    const der = Buffer.from(body.join(""), "base64");
    const jwk = crypto.createPrivateKey(pem).export({ format: "jwk" }) as Record<string, string | undefined>;
    const components = ["d", "p", "q", "dp", "dq", "qi"].flatMap((name) => {
        const value = jwk[name];
        return value ? [Buffer.from(value, "base64url")] : [];
    });
    const privateRanges = components.map((component) => {
        const start = der.indexOf(component);
        if (start < 0) throw new Error(`${label}: a private component is not in the key's DER`);
        return [start, start + component.length] as const;
    });
    const needles: Needle[] = [];
    let publicOnlyLines = 0;
    body.forEach((line, index) => {
        // 64 base64 characters are 48 bytes.
        const [from, to] = [index * 48, index * 48 + (line.length * 3) / 4];
        if (privateRanges.some(([start, end]) => start < to && from < end)) {
            needles.push({ what: `${label} PEM line ${index + 1}`, text: line });
        } else {
            publicOnlyLines += 1;
        }
    });
    for (const encoding of ["base64", "base64url", "hex"] as const) {
        needles.push({ what: `${label} DER (${encoding})`, text: der.toString(encoding) });
        components.forEach((component, part) => {
            needles.push({
                what: `${label} private component ${part} (${encoding})`,
                text: component.toString(encoding),
            });
        });
    }
    return { needles, publicOnlyLines };
}

/** Which of `needles` occur in which of `texts` ("<what> in <where>"): the list must be empty. */
export function leaks(texts: ReadonlyArray<{ where: string; text: string }>, needles: readonly Needle[]): string[] {
    return needles.flatMap((needle) =>
        texts.filter((entry) => entry.text.includes(needle.text)).map((entry) => `${needle.what} in ${entry.where}`),
    );
}

/** The key material of these private keys found in these error messages (must be none). */
export function keyMaterialIn(messages: readonly string[], privateKeyPems: readonly string[]): string[] {
    const needles = privateKeyPems.flatMap((pem, index) => keyMaterial(pem, `key ${index}`).needles);
    return leaks(
        messages.map((text, index) => ({ where: `message ${index + 1}`, text })),
        needles,
    );
}
