// Drives the REAL dynamic-provider host of @pulumi/pulumi (cmd/dynamic-provider) over gRPC, as the Pulumi engine
// does, without a Pulumi CLI. Values go in and come out in wire form (see values.ts); this class applies the
// engine's marshalling around each call: secrets stripped on the way in (the host does not accept secrets),
// re-marked on the way out, additionalSecretOutputs applied.
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import type * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { annotateSecrets, markSecretOutputs, type PropertyMap, stripSecrets } from "./values";

export {
    annotateSecrets,
    containsUnknowns,
    fromMockInputs,
    isSecret,
    type PropertyMap,
    type PropertyValue,
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    secret,
    stripSecrets,
    UNKNOWN,
} from "./values";

/** The environment variable that tells clock.cjs how many seconds to shift the host's clock. */
export const CLOCK_OFFSET_ENV = "PULUMI_HARNESS_CLOCK_OFFSET_SECONDS";

const CLOCK_MODULE = path.join(__dirname, "clock.cjs");

export interface HostOptions {
    /**
     * The directory the host runs in. `require()` inside a serialized provider resolves from here: the engine uses
     * the Pulumi program's directory.
     */
    cwd: string;
    /** The project name (PULUMI_NODEJS_PROJECT): a provider's `config.get("key")` reads `<project>:key`. */
    project: string;
    /** Shifts `Date.now()` and `new Date()` inside the host by this many seconds (to reach expiry windows). */
    clockOffsetSeconds?: number;
    env?: Record<string, string>;
    /** How long to wait for the host to print its port. */
    startTimeoutMs?: number;
}

/** A line the host wrote: the engine shows stdout lines as info and stderr lines as infoerr diagnostics. */
export interface HostLine {
    stream: "stdout" | "stderr";
    line: string;
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/** The provider's Diff answer. `unknown` means the provider has no diff(): the engine then compares inputs. */
export interface ProviderDiff {
    changes: "none" | "some" | "unknown";
    replaces: string[];
    deleteBeforeReplace: boolean;
}

/** A failed RPC. `initFailure` is set when the resource was created but failed to initialize (partial failure). */
export class HostCallError extends Error {
    constructor(
        message: string,
        readonly code: grpc.status,
        readonly initFailure?: { id: string; outputs: PropertyMap; reasons: string[] },
    ) {
        super(message);
        this.name = "HostCallError";
    }
}

const DIFF_CHANGES: Record<provproto.DiffResponse.DiffChanges, ProviderDiff["changes"]> = {
    [provproto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "unknown",
    [provproto.DiffResponse.DiffChanges.DIFF_NONE]: "none",
    [provproto.DiffResponse.DiffChanges.DIFF_SOME]: "some",
};

const toStruct = (map: PropertyMap) => structproto.Struct.fromJavaScript(stripSecrets(map));
const fromStruct = (struct: structproto.Struct | undefined) => (struct?.toJavaScript() ?? {}) as PropertyMap;

export class DynamicProviderHost {
    private killed = false;

    private constructor(
        private readonly process: ChildProcess,
        private readonly client: provrpc.ResourceProviderClient,
        /** Everything the host printed after its port line, in order (the engine's diagnostics). */
        readonly lines: HostLine[],
    ) {}

    /** Starts `node @pulumi/pulumi/cmd/dynamic-provider` the way the engine launches `pulumi-resource-pulumi-nodejs`. */
    static async start(options: HostOptions): Promise<DynamicProviderHost> {
        const script = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [options.cwd] });
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PULUMI_NODEJS_PROJECT: options.project,
            PULUMI_PROJECT: options.project,
            // The engine passes the host only the `pulumi-nodejs:` config namespace; the stack config comes with Configure.
            PULUMI_CONFIG: "{}",
            ...options.env,
        };
        delete env.PULUMI_CONFIG_SECRET_KEYS;
        if (options.clockOffsetSeconds) {
            env[CLOCK_OFFSET_ENV] = String(options.clockOffsetSeconds);
            env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --require ${JSON.stringify(CLOCK_MODULE)}`.trim();
        }
        // The engine address argument is required but never dialled by the dynamic host.
        const child = spawn(process.execPath, [script, "127.0.0.1:0"], {
            cwd: options.cwd,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const lines: HostLine[] = [];
        readline.createInterface({ input: child.stderr! }).on("line", (line) => lines.push({ stream: "stderr", line }));
        const port = await new Promise<number>((resolve, reject) => {
            let portLine = true;
            readline.createInterface({ input: child.stdout! }).on("line", (line) => {
                if (!portLine) {
                    lines.push({ stream: "stdout", line });
                    return;
                }
                portLine = false;
                clearTimeout(timer);
                resolve(Number(line.trim()));
            });
            const timeoutMs = options.startTimeoutMs ?? 30_000;
            const timer = setTimeout(() => {
                child.kill("SIGKILL");
                reject(new Error(`the dynamic-provider host printed no port within ${timeoutMs} ms`));
            }, timeoutMs);
            child.once("exit", (code, signal) => {
                clearTimeout(timer);
                const output = lines.map((l) => l.line).join("\n");
                reject(new Error(`the dynamic-provider host exited during start-up (${code ?? signal}):\n${output}`));
            });
        });
        // From now on only calls in flight keep this process alive (gRPC holds them), not the idle host: a program
        // run detects that it is stuck by its event loop running empty. stop() ends the host.
        for (const handle of [child, child.stdout, child.stderr] as unknown as { unref(): void }[]) handle.unref();
        const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        return new DynamicProviderHost(child, client, lines);
    }

    /** The host's process id (for crash injection and for stopping it by PID). */
    get pid(): number {
        return this.process.pid!;
    }

    /**
     * Configure, which the engine calls before anything else with the WHOLE stack config (keys keep their
     * namespace, "proj:key"; secrets wrapped: the host unwraps them). Without it a provider's configure() fails.
     */
    async configure(config: PropertyMap): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }> {
        const request = new provproto.ConfigureRequest();
        request.setArgs(structproto.Struct.fromJavaScript(config));
        request.setAcceptsecrets(true);
        request.setAcceptresources(true);
        request.setType("pulumi:providers:pulumi-nodejs");
        const response = await this.call<provproto.ConfigureResponse>("configure", request);
        return { acceptSecrets: response.getAcceptsecrets(), supportsPreview: response.getSupportspreview() };
    }

    async check(
        urn: string,
        olds: PropertyMap,
        news: PropertyMap,
    ): Promise<{ inputs: PropertyMap; failures: CheckFailure[] }> {
        const request = new provproto.CheckRequest();
        request.setUrn(urn);
        request.setOlds(toStruct(olds));
        request.setNews(toStruct(news));
        const response = await this.call<provproto.CheckResponse>("check", request);
        return {
            inputs: annotateSecrets(fromStruct(response.getInputs()), news),
            failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    async diff(
        id: string,
        urn: string,
        oldOutputs: PropertyMap,
        newInputs: PropertyMap,
        oldInputs: PropertyMap = {},
    ): Promise<ProviderDiff> {
        const request = new provproto.DiffRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setOlds(toStruct(oldOutputs));
        request.setNews(toStruct(newInputs));
        request.setOldInputs(toStruct(oldInputs));
        const response = await this.call<provproto.DiffResponse>("diff", request);
        return {
            changes: DIFF_CHANGES[response.getChanges()],
            replaces: response.getReplacesList(),
            deleteBeforeReplace: response.getDeletebeforereplace(),
        };
    }

    async create(
        urn: string,
        inputs: PropertyMap,
        options: { additionalSecretOutputs?: readonly string[] } = {},
    ): Promise<{ id: string; outputs: PropertyMap }> {
        const request = new provproto.CreateRequest();
        request.setUrn(urn);
        request.setProperties(toStruct(inputs));
        const response = await this.call<provproto.CreateResponse>("create", request);
        const outputs = annotateSecrets(fromStruct(response.getProperties()), inputs);
        return { id: response.getId(), outputs: markSecretOutputs(outputs, options.additionalSecretOutputs ?? []) };
    }

    /** Read (refresh). `id` comes back "" when the provider reports the resource gone. */
    async read(
        id: string,
        urn: string,
        oldOutputs: PropertyMap,
        oldInputs: PropertyMap,
        options: { additionalSecretOutputs?: readonly string[] } = {},
    ): Promise<{ id: string; outputs: PropertyMap; inputs?: PropertyMap }> {
        const request = new provproto.ReadRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setProperties(toStruct(oldOutputs));
        request.setInputs(toStruct(oldInputs));
        const response = await this.call<provproto.ReadResponse>("read", request);
        const outputs = annotateSecrets(fromStruct(response.getProperties()), oldOutputs);
        const inputs = response.getInputs();
        return {
            id: response.getId(),
            outputs: markSecretOutputs(outputs, options.additionalSecretOutputs ?? []),
            ...(inputs ? { inputs: annotateSecrets(fromStruct(inputs), oldInputs) } : {}),
        };
    }

    async update(
        id: string,
        urn: string,
        oldOutputs: PropertyMap,
        newInputs: PropertyMap,
        oldInputs: PropertyMap = {},
        options: { additionalSecretOutputs?: readonly string[] } = {},
    ): Promise<{ outputs: PropertyMap }> {
        const request = new provproto.UpdateRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setOlds(toStruct(oldOutputs));
        request.setNews(toStruct(newInputs));
        request.setOldInputs(toStruct(oldInputs));
        const response = await this.call<provproto.UpdateResponse>("update", request);
        const outputs = annotateSecrets(fromStruct(response.getProperties()), newInputs);
        return { outputs: markSecretOutputs(outputs, options.additionalSecretOutputs ?? []) };
    }

    /** Delete, from saved state only (outputs and old inputs), as a later destroy would. */
    async delete(id: string, urn: string, outputs: PropertyMap, oldInputs: PropertyMap = {}): Promise<void> {
        const request = new provproto.DeleteRequest();
        request.setId(id);
        request.setUrn(urn);
        request.setProperties(toStruct(outputs));
        request.setOldInputs(toStruct(oldInputs));
        await this.call<emptyproto.Empty>("delete", request);
    }

    /** SIGKILLs the host (crash injection): calls in flight fail, as when a provider plugin dies. */
    kill(): void {
        if (this.process.exitCode !== null || this.process.signalCode !== null) return;
        this.killed = true;
        process.kill(this.pid, "SIGKILL");
    }

    async stop(): Promise<void> {
        this.client.close();
        if (this.process.exitCode !== null || this.process.signalCode !== null) return;
        const exited = new Promise((resolve) => this.process.once("exit", resolve));
        this.process.ref();
        process.kill(this.pid, "SIGTERM");
        await exited;
    }

    private call<Response>(method: keyof provrpc.IResourceProviderClient, request: unknown): Promise<Response> {
        const invoke = this.client[method] as unknown as (
            request: unknown,
            callback: (error: grpc.ServiceError | null, response: Response) => void,
        ) => void;
        return new Promise((resolve, reject) =>
            invoke.call(this.client, request, (error, response) => {
                if (!error) return resolve(response);
                const failure = toHostCallError(error);
                const { signalCode, exitCode } = this.process;
                if (this.killed) failure.message += " (the provider host was killed on purpose: crash injection)";
                else if (signalCode !== null || exitCode !== null) {
                    failure.message += ` (the provider host died: ${signalCode ?? `exit code ${exitCode}`})`;
                }
                reject(failure);
            }),
        );
    }
}

/** Unpacks the host's error, including the ErrorResourceInitFailed detail a provider sends by throwing `{id, ...}`. */
function toHostCallError(error: grpc.ServiceError): HostCallError {
    const details = error.metadata?.get("grpc-status-details-bin")[0];
    if (details instanceof Buffer) {
        const detail = statusproto.Status.deserializeBinary(details).getDetailsList()[0];
        if (detail?.getTypeUrl().endsWith("pulumirpc.ErrorResourceInitFailed")) {
            const failure = provproto.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
            return new HostCallError(error.details, error.code, {
                id: failure.getId(),
                outputs: fromStruct(failure.getProperties()),
                reasons: failure.getReasonsList(),
            });
        }
    }
    return new HostCallError(error.details || error.message, error.code);
}

/** Serializes a provider exactly as `pulumi.dynamic.Resource` does, for tests that call the host directly. */
export async function serializeProvider(provider: object): Promise<{ text: string; containsSecrets: boolean }> {
    const pulumi = await import("@pulumi/pulumi");
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return { text: serialized.text, containsSecrets: serialized.containsSecrets };
}
