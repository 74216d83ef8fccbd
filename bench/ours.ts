// Our resources, driven as the Pulumi engine drives them: each one Checked, then Created, through the REAL
// dynamic-provider host of @pulumi/pulumi over gRPC (test/harness/host.ts), with __provider strings serialized
// from the installed package exactly as pulumi.dynamic.Resource does. DNS-01 answers are published in the stack's
// BIND between the Order and the Certificate, as the program's record resources would.
import * as path from "node:path";
import type { DnsChallengeRecord } from "../provider/dns01/names";
import { DynamicProviderHost, type PropertyMap, serializeProvider } from "../test/harness/host";
import { type BindInfo, DnsUpdater } from "../test/stack";
import { cpuMsOf } from "./procfs";
import { epochNow } from "./stats";

/** The program directory: require() in __provider resolves from here, against node_modules/pulumi-acme-certs. */
const PROGRAM_DIR = path.resolve(__dirname, "..");
const INSTALLED_PACKAGE = path.join(PROGRAM_DIR, "node_modules", "pulumi-acme-certs");
const PROJECT = "bench";
const STACK = "bench";

/** Each resource type: its provider module in dist/resources, and the outputs its class marks secret. */
const RESOURCE_TYPES = {
    PrivateKey: { module: "privateKey", secretOutputs: ["privateKeyPem"] },
    CertificateRequest: { module: "certificateRequest", secretOutputs: [] },
    Registration: { module: "registration", secretOutputs: ["accountKeyPem"] },
    Order: { module: "order", secretOutputs: ["accountKeyPem"] },
    Certificate: { module: "certificate", secretOutputs: ["accountKeyPem"] },
} as const;

type ResourceType = keyof typeof RESOURCE_TYPES;

/** The `__provider` input of each resource type. */
export type Providers = Record<ResourceType, string>;

/**
 * The installed package's provider module, by its path under node_modules: only such a module serializes as a
 * require() (the TS source, or dist/ reached by the package's own name from inside this repository, would be
 * serialized by value).
 */
export function installedProviderModule(type: ResourceType): Record<string, unknown> {
    return require(path.join(INSTALLED_PACKAGE, "dist", "resources", `${RESOURCE_TYPES[type].module}.js`));
}

export async function serializeProviders(): Promise<Providers> {
    const providers = {} as Providers;
    for (const type of Object.keys(RESOURCE_TYPES) as ResourceType[]) {
        const { text } = await serializeProvider(installedProviderModule(type));
        const expected = `require("pulumi-acme-certs/dist/resources/${RESOURCE_TYPES[type].module}.js")`;
        if (!text.includes(expected)) {
            throw new Error(
                `${type}'s provider serialized by value, not as ${expected}: ` +
                    "run `npm run build && node scripts/install-self.mjs` so the package is installed under node_modules",
            );
        }
        providers[type] = text;
    }
    return providers;
}

/** A resource as the engine keeps it in state. */
export interface ResourceState {
    type: ResourceType;
    urn: string;
    id: string;
    inputs: PropertyMap;
    outputs: PropertyMap;
}

/** A span of the run, for the timeline: one resource's Check + Create (labelled by its type), or publishing the records. */
export interface Mark {
    label: string;
    startedAt: number;
    endedAt: number;
}

/** A created account: its key and its Registration, as a stack's state holds them after its first `up`. */
export interface StoredAccount {
    key: ResourceState;
    registration: ResourceState;
}

/** The engine's side of one deployment against one host: the steps it takes for each resource. */
class Deployment {
    readonly marks: Mark[] = [];

    constructor(
        private readonly host: DynamicProviderHost,
        private readonly providers: Providers,
    ) {}

    /** Check, then Create: what `pulumi up` does for a new resource. */
    async create(type: ResourceType, name: string, args: PropertyMap): Promise<ResourceState> {
        const urn = urnOf(type, name);
        return this.timed(type, async () => {
            const inputs = await this.checked(urn, {}, { __provider: this.providers[type], ...args });
            const secretOutputs = RESOURCE_TYPES[type].secretOutputs;
            const { id, outputs } = await this.host.create(urn, inputs, { additionalSecretOutputs: secretOutputs });
            return { type, urn, id, inputs, outputs };
        });
    }

    /** Check, then Diff, of a resource that exists and did not change: what `pulumi up` does for it. */
    async confirmUnchanged(state: ResourceState): Promise<void> {
        const inputs = await this.checked(state.urn, state.inputs, state.inputs);
        const diff = await this.host.diff(state.id, state.urn, state.outputs, inputs, state.inputs);
        if (diff.changes === "some") throw new Error(`${state.urn} reports changes although nothing changed`);
    }

    async timed<T>(label: string, step: () => Promise<T>): Promise<T> {
        const startedAt = epochNow();
        try {
            return await step();
        } finally {
            this.marks.push({ label, startedAt, endedAt: epochNow() });
        }
    }

    private async checked(urn: string, olds: PropertyMap, news: PropertyMap): Promise<PropertyMap> {
        const { inputs, failures } = await this.host.check(urn, olds, news);
        if (failures.length > 0) throw new Error(`Check of ${urn} failed: ${JSON.stringify(failures)}`);
        return inputs;
    }
}

function urnOf(type: ResourceType, name: string): string {
    return `urn:pulumi:${STACK}::${PROJECT}::pulumi-nodejs:dynamic/pulumi-acme-certs:${type}::${name}`;
}

/** The account fields an Order or Certificate takes from a Registration (the key stays secret). */
function accountArgs(account: StoredAccount): PropertyMap {
    const { directoryUrl, accountUrl, accountKeyPem, caCertificatesPem } = account.registration.outputs;
    return {
        directoryUrl: directoryUrl!,
        accountUrl: accountUrl!,
        accountKeyPem: accountKeyPem!,
        caCertificatesPem: caCertificatesPem!,
    };
}

/** Where the resources are created: the CA (through the proxy, trusting its certificate) and the DNS. */
export interface Target {
    directoryUrl: string;
    caCertificatesPem: string;
    bind: BindInfo;
}

/**
 * Key → CSR → Order → records → Certificate for every name set, each step for all sets at once (as an engine
 * runs independent resources in parallel). Returns the certificates' states.
 */
async function issueAll(
    deployment: Deployment,
    account: StoredAccount,
    target: Target,
    nameSets: readonly (readonly string[])[],
): Promise<ResourceState[]> {
    const each = <T>(make: (index: number) => Promise<T>) => Promise.all(nameSets.map((_, index) => make(index)));
    const label = (index: number) => nameSets[index]![0]!;
    const keys = await each((i) => deployment.create("PrivateKey", `${label(i)}-key`, {}));
    const csrs = await each((i) =>
        deployment.create("CertificateRequest", `${label(i)}-csr`, {
            privateKeyPem: keys[i]!.outputs.privateKeyPem!,
            dnsNames: [...nameSets[i]!],
        }),
    );
    const orders = await each((i) =>
        deployment.create("Order", `${label(i)}-order`, { ...accountArgs(account), csrPem: csrs[i]!.outputs.csrPem! }),
    );
    // All record sets in one update per zone: a DNS API behind real record resources takes requests, not
    // processes, and 50 nsupdate processes would measure nsupdate rather than the certificates.
    await deployment.timed("records", async () =>
        new DnsUpdater(target.bind).setTxtRecordSets(
            orders.flatMap((order) => order.outputs.dnsChallenges as unknown as DnsChallengeRecord[]),
        ),
    );
    return each((i) => {
        const order = orders[i]!.outputs;
        return deployment.create("Certificate", `${label(i)}-certificate`, {
            ...accountArgs(account),
            orderUrl: order.orderUrl!,
            challengeType: order.challengeType!,
            dnsNames: order.dnsNames!,
            authorizations: order.authorizations!,
            dnsChallenges: order.dnsChallenges!,
            csrPem: csrs[i]!.outputs.csrPem!,
            // The records were just written to BIND, which answers at once: the first check succeeds.
            propagation: { nameservers: [target.bind.address], timeoutSeconds: 10, intervalSeconds: 0.2 },
        });
    });
}

function assertIssued(certificates: readonly ResourceState[]): void {
    for (const certificate of certificates) {
        if (!String(certificate.outputs.certificatePem ?? "").includes("BEGIN CERTIFICATE")) {
            throw new Error(`${certificate.urn} has no certificate`);
        }
    }
}

export interface OursRun {
    startedAt: number;
    endedAt: number;
    marks: Mark[];
    /** CPU the host used during the run (10 ms resolution). */
    hostCpuMs: number;
    certificates: ResourceState[];
}

function startHost(): Promise<DynamicProviderHost> {
    return DynamicProviderHost.start({ cwd: PROGRAM_DIR, project: PROJECT });
}

/** One host for the whole bench, holding the account it registered: every certificate after that is "warm". */
export class WarmHost {
    private constructor(
        private readonly host: DynamicProviderHost,
        private readonly providers: Providers,
        private readonly target: Target,
        readonly account: StoredAccount,
    ) {}

    static async start(providers: Providers, target: Target): Promise<WarmHost> {
        const host = await startHost();
        try {
            await host.configure({});
            const deployment = new Deployment(host, providers);
            const key = await deployment.create("PrivateKey", "account-key", {});
            const registration = await deployment.create("Registration", "account", {
                directoryUrl: target.directoryUrl,
                accountKeyPem: key.outputs.privateKeyPem!,
                termsOfServiceAgreed: true,
                caCertificatesPem: target.caCertificatesPem,
            });
            return new WarmHost(host, providers, target, { key, registration });
        } catch (error) {
            await host.stop();
            throw error;
        }
    }

    get pid(): number {
        return this.host.pid;
    }

    /** Certificates for every name set, all at once in this host. */
    async issue(nameSets: readonly (readonly string[])[]): Promise<OursRun> {
        const deployment = new Deployment(this.host, this.providers);
        const cpuBefore = cpuMsOf(this.host.pid);
        const startedAt = epochNow();
        const certificates = await issueAll(deployment, this.account, this.target, nameSets);
        const endedAt = epochNow();
        assertIssued(certificates);
        return {
            startedAt,
            endedAt,
            marks: deployment.marks,
            hostCpuMs: cpuMsOf(this.host.pid) - cpuBefore,
            certificates,
        };
    }

    /** Diff RPCs of unchanged certificates, one after another (the engine diffs serially unless PULUMI_PARALLEL_DIFF). */
    async diffUnchanged(
        certificates: readonly ResourceState[],
        count: number,
    ): Promise<{ startedAt: number; endedAt: number }> {
        const startedAt = epochNow();
        for (let index = 0; index < count; index++) {
            const { id, urn, outputs, inputs } = certificates[index % certificates.length]!;
            const diff = await this.host.diff(id, urn, outputs, inputs, inputs);
            if (diff.changes !== "none") throw new Error(`Diff of unchanged ${urn} answered ${diff.changes}`);
        }
        return { startedAt, endedAt: epochNow() };
    }

    stop(): Promise<void> {
        return this.host.stop();
    }
}

/**
 * A fresh host per certificate, as a new `pulumi up` that adds a certificate to a stack with an account: host
 * start-up, Configure, Check + Diff of the existing account key and Registration, then the certificate's chain.
 */
export async function issueInFreshHost(
    providers: Providers,
    target: Target,
    account: StoredAccount,
    names: readonly string[],
): Promise<OursRun> {
    const startedAt = epochNow();
    const host = await startHost();
    try {
        const deployment = new Deployment(host, providers);
        deployment.marks.push({ label: "host start-up", startedAt, endedAt: epochNow() });
        await deployment.timed("Configure", () => host.configure({}));
        await deployment.timed("account unchanged (Check + Diff × 2)", async () => {
            await deployment.confirmUnchanged(account.key);
            await deployment.confirmUnchanged(account.registration);
        });
        const certificates = await issueAll(deployment, account, target, [names]);
        const endedAt = epochNow();
        assertIssued(certificates);
        return { startedAt, endedAt, marks: deployment.marks, hostCpuMs: cpuMsOf(host.pid), certificates };
    } finally {
        await host.stop();
    }
}
