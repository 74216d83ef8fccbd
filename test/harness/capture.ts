// What a program registers, captured in this process without any provider: for component tests that assert child
// types, names, parents, inputs, options and the `__provider` text. Load the library from node_modules (the
// installed copy), not its TypeScript source: vitest-transformed modules cannot be serialized as providers.
import { type Registration, runProgram } from "./monitor";
import type { PropertyMap } from "./values";

export interface CaptureOptions {
    /** Run as a preview: outputs not returned by `outputs` are unknown. Default false. */
    preview?: boolean;
    project?: string;
    stack?: string;
    /**
     * The outputs each resource answers with (default: its inputs, as the engine answers a preview). Return `id`
     * to set the resource's id (default `<name>-id`).
     */
    outputs?: (registration: Registration) => PropertyMap & { id?: string };
    /** Answers data source calls (default: fail naming the token). */
    invoke?: (token: string, inputs: PropertyMap) => PropertyMap;
}

export interface Capture {
    /** Every registration, in the order the program made them (the root Stack first). */
    registrations: Registration[];
    /** The program's stack outputs, in wire form (secrets wrapped). */
    outputs: PropertyMap;
    /** Registered outputs of components, by URN. */
    componentOutputs: Map<string, PropertyMap>;
    /** The registration of the resource with this name (and type, when names repeat); throws if absent. */
    find(name: string, type?: string): Registration;
}

/** Runs `program` under mocks and returns what it registered. */
export async function captureRegistrations(program: () => unknown, options: CaptureOptions = {}): Promise<Capture> {
    const registrations: Registration[] = [];
    const componentOutputs = new Map<string, PropertyMap>();
    const outputs = await runProgram(
        program,
        {
            async register(registration) {
                registrations.push(registration);
                const { id, ...answer } = options.outputs?.(registration) ?? { ...registration.inputs };
                return { id: registration.custom ? (id ?? `${registration.name}-id`) : undefined, outputs: answer };
            },
            registerOutputs: (urn, registered) => componentOutputs.set(urn, registered),
            invoke(token, inputs) {
                if (options.invoke) return options.invoke(token, inputs);
                throw new Error(`captureRegistrations: no answer for data source ${token}: pass options.invoke`);
            },
        },
        { project: options.project ?? "project", stack: options.stack ?? "dev", preview: options.preview ?? false },
    );
    return {
        registrations,
        outputs,
        componentOutputs,
        find(name, type) {
            const found = registrations.find((r) => r.name === name && (type === undefined || r.type === type));
            if (!found) {
                const names = registrations.map((r) => `${r.type} ${r.name}`).join(", ");
                throw new Error(`no registration named ${name}${type ? ` of type ${type}` : ""}; registered: ${names}`);
            }
            return found;
        },
    };
}
