// Key generation in-process, one after another: node:crypto through the provider's own generatePrivateKey, and
// node-forge's pure-JavaScript RSA for contrast (what a provider without node:crypto would pay).
import forge from "node-forge";
import { generatePrivateKey, type KeySpec } from "../provider/crypto/keys";
import { type Summary, summarize } from "./stats";

export interface KeygenResult {
    label: string;
    samplesMs: number[];
    summary: Summary;
}

async function timeSamples(count: number, generate: () => unknown): Promise<number[]> {
    const samples: number[] = [];
    for (let index = 0; index < count; index++) {
        const startedAt = performance.now();
        await generate();
        samples.push(performance.now() - startedAt);
    }
    return samples;
}

export async function benchmarkKeyGeneration(quick: boolean): Promise<KeygenResult[]> {
    // RSA's prime search makes single samples spread widely (4096: 0.4–3.4 s); the counts keep the full run near 30 s.
    const specs: Array<{ spec: KeySpec; label: string; count: number }> = [
        { spec: { algorithm: "ECDSA", ecdsaCurve: "P256" }, label: "node:crypto ECDSA P-256", count: quick ? 20 : 200 },
        { spec: { algorithm: "ECDSA", ecdsaCurve: "P384" }, label: "node:crypto ECDSA P-384", count: quick ? 20 : 200 },
        { spec: { algorithm: "RSA", rsaBits: 2048 }, label: "node:crypto RSA 2048", count: quick ? 3 : 30 },
        { spec: { algorithm: "RSA", rsaBits: 4096 }, label: "node:crypto RSA 4096", count: quick ? 1 : 8 },
    ];
    const results: KeygenResult[] = [];
    for (const { spec, label, count } of specs) {
        const samplesMs = await timeSamples(count, () => generatePrivateKey(spec));
        results.push({ label, samplesMs, summary: summarize(samplesMs) });
    }
    // @types/node-forge does not declare forge.options.
    const options = (forge as unknown as { options: { usePureJavaScript: boolean } }).options;
    const pureJavaScript = options.usePureJavaScript;
    options.usePureJavaScript = true;
    try {
        const samplesMs = await timeSamples(quick ? 1 : 5, () =>
            forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }),
        );
        results.push({ label: "node-forge RSA 2048 (pure JavaScript)", samplesMs, summary: summarize(samplesMs) });
    } finally {
        options.usePureJavaScript = pureJavaScript;
    }
    return results;
}
