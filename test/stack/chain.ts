// Verifies an issued chain the way a TLS client would: each certificate signed by the next, the last by the
// Pebble root, and the leaf valid for every expected name.
import * as crypto from "node:crypto";
import { expect } from "vitest";
import { splitPemChain } from "../../provider/crypto/certificate";

export function expectChainTo(fullChainPem: string, rootPem: string, names: readonly string[]): crypto.X509Certificate {
    const chain = splitPemChain(fullChainPem).map((pem) => new crypto.X509Certificate(pem));
    const root = new crypto.X509Certificate(rootPem);
    expect(chain.length).toBeGreaterThan(1);
    for (const [index, certificate] of chain.entries()) {
        expect(
            certificate.verify((chain[index + 1] ?? root).publicKey),
            `certificate ${index} is signed by the next`,
        ).toBe(true);
    }
    const leaf = chain[0]!;
    for (const name of names) {
        const host = name.startsWith("*.") ? `www.${name.slice(2)}` : name;
        expect(leaf.checkHost(host), `the leaf is valid for ${name}`).toBeDefined();
    }
    return leaf;
}
