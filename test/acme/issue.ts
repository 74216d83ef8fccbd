// The order flow the resources will run, step by step through an AcmeAccountClient: for tests that need a
// certificate (or an order at a given step) from the stack's Pebble.
import type { AcmeAccountClient, AcmeAuthorization, AcmeChallenge, AcmeOrder } from "../../provider/acme/client";
import { type AcmeProblemError, isAcmeProblem } from "../../provider/acme/errors";
import { createCsr } from "../../provider/crypto/csr";
import { generatePrivateKey } from "../../provider/crypto/keys";
import type { DnsUpdater } from "../stack/index";

export function challengeOf(authorization: AcmeAuthorization, type: string): AcmeChallenge {
    const challenge = authorization.challenges.find((candidate) => candidate.type === type);
    if (!challenge) throw new Error(`${authorization.url} offers no ${type} challenge`);
    return challenge;
}

/**
 * Puts the DNS-01 values of every authorization of `order` into BIND. Names that share a TXT record (apex and
 * wildcard) get all their values in one record set. `txtValueOf` lets a test publish a wrong value.
 */
export async function publishDns01(
    client: AcmeAccountClient,
    order: AcmeOrder,
    dns: DnsUpdater,
    txtValueOf = (challenge: AcmeChallenge) => client.dns01TxtValue(challenge.token),
): Promise<AcmeAuthorization[]> {
    const authorizations = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url)));
    const valuesByRecord = new Map<string, string[]>();
    for (const authorization of authorizations) {
        const record = `_acme-challenge.${authorization.identifier.value}`;
        const value = txtValueOf(challengeOf(authorization, "dns-01"));
        valuesByRecord.set(record, [...(valuesByRecord.get(record) ?? []), value]);
    }
    dns.setTxtRecordSets([...valuesByRecord].map(([recordName, values]) => ({ recordName, values })));
    return authorizations;
}

/** Finalizes a ready order with a fresh ECDSA key and downloads the chain. */
export async function finalizeAndDownload(
    client: AcmeAccountClient,
    order: AcmeOrder,
    dnsNames: string[],
): Promise<{ order: AcmeOrder; chainPem: string; keyPem: string }> {
    const keyPem = await generatePrivateKey({ algorithm: "ECDSA" });
    await client.finalizeOrder(order, await createCsr(keyPem, dnsNames));
    const valid = await client.waitForOrder(order.url, ["valid"]);
    const chainPem = await client.downloadCertificate(valid.certificate!);
    return { order: valid, chainPem, keyPem };
}

/** A whole certificate for `dnsNames` over DNS-01, its challenges answered together as the Certificate does. */
export async function issueOverDns01(
    client: AcmeAccountClient,
    dnsNames: string[],
    dns: DnsUpdater,
): Promise<{ order: AcmeOrder; chainPem: string; keyPem: string }> {
    const order = await client.createOrder({ dnsNames });
    const authorizations = await publishDns01(client, order, dns);
    await Promise.all(
        authorizations.map((authorization) => client.answerChallenge(challengeOf(authorization, "dns-01").url)),
    );
    return finalizeAndDownload(client, await client.waitForOrder(order.url, ["ready"]), dnsNames);
}

/** The AcmeProblemError `promise` rejects with (any other outcome fails the test). */
export async function rejection(promise: Promise<unknown>): Promise<AcmeProblemError> {
    const error = await promise.then(
        () => new Error("expected a rejection"),
        (reason: unknown) => reason,
    );
    if (!isAcmeProblem(error)) throw error;
    return error;
}
