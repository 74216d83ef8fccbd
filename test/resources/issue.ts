// Drives the resources' provider functions the way the engine would in one `pulumi up` (check, then create), with
// the DNS-01 records placed in the stack's BIND in between — as aws.route53.Record resources would be.
import { expect } from "vitest";
import * as certificate from "../../provider/resources/certificate";
import * as certificateRequest from "../../provider/resources/certificateRequest";
import * as order from "../../provider/resources/order";
import * as privateKey from "../../provider/resources/privateKey";
import * as registration from "../../provider/resources/registration";
import { DnsUpdater, Http01Responder, type TestStackInfo } from "../stack";

type Provider = {
    check(
        olds: unknown,
        news: never,
    ): Promise<{ inputs?: unknown; failures?: Array<{ property: string; reason: string }> }>;
    create(inputs: never): Promise<{ id: string; outs?: unknown }>;
};

/** check + create, failing the test with the check failures when there are any. */
export async function checkAndCreate<Outputs>(
    provider: Provider,
    news: object,
): Promise<{ id: string; outs: Outputs }> {
    const checked = await provider.check({}, news as never);
    expect(checked.failures ?? []).toEqual([]);
    const created = await provider.create(checked.inputs as never);
    return { id: created.id, outs: created.outs as Outputs };
}

export async function registerAccount(stack: TestStackInfo, pebble = stack.pebble) {
    const key = await checkAndCreate<privateKey.PrivateKeyOutputs>(privateKey, {});
    const account = await checkAndCreate<registration.RegistrationOutputs>(registration, {
        directoryUrl: pebble.directoryUrl,
        accountKeyPem: key.outs.privateKeyPem,
        termsOfServiceAgreed: true,
        caCertificatesPem: pebble.listenerCaPem,
    });
    return account.outs;
}

export interface IssueOptions {
    key?: Partial<privateKey.PrivateKeyInputs>;
    challengeType?: order.ChallengeType;
    renewBefore?: string;
    /** TXT values to publish instead of the right ones (to make validation fail). */
    publish?: (record: { recordName: string; values: string[] }) => string[];
    propagation?: Partial<certificate.Propagation>;
}

/** Key → CSR → Order → records in BIND (or tokens on the HTTP-01 responder) → Certificate. */
export async function issue(
    stack: TestStackInfo,
    account: registration.RegistrationOutputs,
    dnsNames: string[],
    options: IssueOptions = {},
) {
    const key = await checkAndCreate<privateKey.PrivateKeyOutputs>(privateKey, options.key ?? {});
    const csr = await checkAndCreate<certificateRequest.CertificateRequestOutputs>(certificateRequest, {
        privateKeyPem: key.outs.privateKeyPem,
        dnsNames,
    });
    const anOrder = await placeOrder(account, csr.outs.csrPem, options);
    await publish(stack, anOrder.outs, options);
    const cert = await checkAndCreate<certificate.CertificateOutputs>(
        certificate,
        certificateArgs(stack, account, anOrder.outs, options),
    );
    return { key: key.outs, csr: csr.outs, order: anOrder, certificate: cert };
}

export function placeOrder(account: registration.RegistrationOutputs, csrPem: string, options: IssueOptions = {}) {
    return checkAndCreate<order.OrderOutputs>(order, {
        ...accountFields(account),
        csrPem,
        challengeType: options.challengeType ?? "dns-01",
        renewBefore: options.renewBefore,
    });
}

export function accountFields(account: registration.RegistrationOutputs) {
    const { directoryUrl, accountUrl, accountKeyPem, caCertificatesPem } = account;
    return { directoryUrl, accountUrl, accountKeyPem, caCertificatesPem };
}

/** Publishes what the order asks for, as the program's records (or HTTP-01 solver) would. */
export async function publish(stack: TestStackInfo, anOrder: order.OrderOutputs, options: IssueOptions = {}) {
    new DnsUpdater(stack.bind).setTxtRecordSets(
        anOrder.dnsChallenges.map((record) => ({
            recordName: record.recordName,
            values: options.publish?.(record) ?? record.values,
        })),
    );
    const http = new Http01Responder(stack.http01);
    for (const challenge of anOrder.httpChallenges) await http.add(challenge.token, challenge.keyAuthorization);
}

export function certificateArgs(
    stack: TestStackInfo,
    account: registration.RegistrationOutputs,
    anOrder: order.OrderOutputs,
    options: IssueOptions = {},
) {
    return {
        ...accountFields(account),
        orderUrl: anOrder.orderUrl,
        challengeType: anOrder.challengeType,
        dnsNames: anOrder.dnsNames,
        authorizations: anOrder.authorizations,
        dnsChallenges: anOrder.dnsChallenges,
        csrPem: anOrder.csrPem,
        renewBefore: options.renewBefore,
        propagation: {
            nameservers: [stack.bind.address],
            timeoutSeconds: 10,
            intervalSeconds: 0.2,
            ...options.propagation,
        },
    };
}
