// Runs a Pulumi program in this process under `pulumi.runtime.setMocks`, but with the resource monitor answering
// like the engine: each registration is handed, with ALL its options and its inputs in wire form, to a handler
// that decides what happens. (The stock mock monitor keeps only type, name and inputs, and deserializes them.)
import * as pulumi from "@pulumi/pulumi";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { downgradeResourceReferences, type PropertyMap, type PropertyValue } from "./values";

/** The type of the root resource every program runs in. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** One RegisterResource call, as the engine receives it. Inputs are in wire form (secrets wrapped, unknowns). */
export interface Registration {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    inputs: PropertyMap;
    dependencies: string[];
    provider?: string;
    additionalSecretOutputs: string[];
    /** Set only when the resource option was given. */
    deleteBeforeReplace?: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    replacementTrigger?: PropertyValue;
    retainOnDelete: boolean;
}

/** What the engine answers a registration with. Leaving an output out makes it unknown during previews. */
export interface RegistrationResult {
    id?: string;
    outputs: PropertyMap;
}

/** The engine side of a program run. */
export interface EngineHandler {
    register(registration: Registration): Promise<RegistrationResult>;
    /** A component (or the stack) registered its outputs. */
    registerOutputs(urn: string, outputs: PropertyMap): void;
    /** A data source call; inputs in wire form. */
    invoke(token: string, inputs: PropertyMap): Promise<PropertyMap> | PropertyMap;
}

export interface ProgramRunOptions {
    project: string;
    stack: string;
    preview: boolean;
}

type Callback = (error: Error | null, response?: unknown) => void;

interface MonitorMethods {
    registerResource(request: resproto.RegisterResourceRequest, callback: Callback): Promise<void>;
    registerResourceOutputs(request: resproto.RegisterResourceOutputsRequest, callback: Callback): void;
    readResource(request: resproto.ReadResourceRequest, callback: Callback): void;
}

/**
 * Runs `program` inside a root Stack resource, as the Node.js language host does, and waits until every
 * registration it started has been answered. Returns the stack outputs (wire form); throws the program's error.
 */
export async function runProgram(
    program: () => unknown,
    handler: EngineHandler,
    options: ProgramRunOptions,
): Promise<PropertyMap> {
    await pulumi.runtime.setMocks(
        {
            newResource: () => {
                throw new Error("unreachable: registrations are answered by the harness monitor");
            },
            call: (call) => handler.invoke(call.token, call.inputs as PropertyMap),
        },
        options.project,
        options.stack,
        options.preview,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as MonitorMethods;
    let stackUrn = "";
    let stackOutputs: PropertyMap = {};
    const urnOf = (type: string, name: string, parent: string) => {
        const parentType = parent && parent !== stackUrn ? parent.split("::")[2]! : "";
        const qualifiedType = parentType ? `${parentType}$${type}` : type;
        return `urn:pulumi:${options.stack}::${options.project}::${qualifiedType}::${name}`;
    };

    monitor.registerResource = async (request, callback) => {
        const urn = urnOf(request.getType(), request.getName(), request.getParent());
        if (request.getType() === ROOT_STACK_TYPE) stackUrn = urn;
        try {
            const result = await handler.register(registrationOf(request, urn));
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(urn);
            response.setId(result.id ?? "");
            response.setObject(structproto.Struct.fromJavaScript(result.outputs));
            callback(null, response);
        } catch (error) {
            callback(error instanceof Error ? error : new Error(String(error)));
        }
    };
    monitor.registerResourceOutputs = (request, callback) => {
        const outputs = (request.getOutputs()?.toJavaScript() ?? {}) as PropertyMap;
        if (request.getUrn() === stackUrn) stackOutputs = outputs;
        handler.registerOutputs(request.getUrn(), outputs);
        callback(null, {});
    };
    monitor.readResource = (request, callback) =>
        callback(
            new Error(
                `reading an existing ${request.getType()} (${request.getName()}) through .get() is not emulated by the harness`,
            ),
        );

    // The program's error is caught inside the stack's init: thrown through it, the SDK would also reject the
    // Stack's own data and output promises, which nothing awaits (unhandled rejections carrying the whole
    // resource graph).
    let programError: { error: unknown } | undefined;
    const finished = (async () => {
        try {
            await pulumi.runtime.runInPulumiStack(async () => {
                try {
                    return await program();
                } catch (error) {
                    programError = { error };
                    return undefined;
                }
            });
        } finally {
            await pulumi.runtime.disconnect();
        }
    })();
    const idle = whenEventLoopEmpties();
    try {
        await Promise.race([finished, idle.promise]);
    } finally {
        idle.cancel();
    }
    if (programError) throw programError.error;
    return stackOutputs;
}

/**
 * Rejects when the process has nothing left to do while the program has not finished: its remaining
 * registrations wait on a resource that failed (the SDK leaves them pending forever), or on a dependency cycle.
 * A real engine ends such a program when it fails the deployment.
 */
function whenEventLoopEmpties(): { promise: Promise<never>; cancel(): void } {
    let onIdle = () => {};
    const promise = new Promise<never>((_, reject) => {
        onIdle = () =>
            reject(new Error("the program stopped with registrations still waiting (on a failed resource or a cycle)"));
        process.once("beforeExit", onIdle);
    });
    return { promise, cancel: () => process.off("beforeExit", onIdle) };
}

function registrationOf(request: resproto.RegisterResourceRequest, urn: string): Registration {
    const inputs = (request.getObject()?.toJavaScript() ?? {}) as PropertyMap;
    const trigger = request.getReplacementTrigger()?.toJavaScript();
    return {
        urn,
        type: request.getType(),
        name: request.getName(),
        custom: request.getCustom(),
        ...(request.getParent() ? { parent: request.getParent() } : {}),
        inputs: downgradeResourceReferences(inputs),
        dependencies: [...new Set(request.getDependenciesList())],
        ...(request.getProvider() ? { provider: request.getProvider() } : {}),
        additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
        ...(request.getDeletebeforereplacedefined() ? { deleteBeforeReplace: request.getDeletebeforereplace() } : {}),
        ignoreChanges: request.getIgnorechangesList(),
        replaceOnChanges: request.getReplaceonchangesList(),
        ...(trigger !== undefined && trigger !== null ? { replacementTrigger: trigger as PropertyValue } : {}),
        retainOnDelete: request.getRetainondelete() === true,
    };
}
