// What a service emulator is given and must do. Emulators stand in for the real providers (AWS, Kubernetes) of the
// resources a program registers, so that whole programs run on a machine without those services.
import type { BindInfo } from "../../stack/bind";
import type { Http01Info } from "../../stack/http01";
import type { PropertyMap } from "../values";

/** The services file of a run: where the emulated services are, and the fake AWS account's hosted zones. */
export interface ServicesConfig {
    /** The stack's BIND: Route53 record sets are applied to it. */
    bind?: BindInfo;
    /** The stack's HTTP-01 responder: labelled ConfigMaps are served through it. */
    http01?: Http01Info;
    /** Route53 hosted zones: zone id → zone name, e.g. {"Z0EXAMPLETEST": "example.test"}. */
    hostedZones?: Record<string, string>;
}

/** A registration handed to an emulator. Inputs are plaintext, as every provider gets them. */
export interface EmulatorRequest {
    urn: string;
    type: string;
    name: string;
    inputs: PropertyMap;
}

export interface EmulatorContext {
    services: ServicesConfig;
    /** The outputs this same resource (URN) had before this run, if any: what it already owns. */
    previousOutputs?: PropertyMap;
}

/** A resource the emulator created earlier, as recorded in state (plaintext). */
export interface ExistingResource {
    urn: string;
    id: string;
    outputs: PropertyMap;
}

/** One emulated service. Failures are thrown as Errors whose message reads like the real provider's. */
export interface ResourceEmulator {
    create(request: EmulatorRequest, context: EmulatorContext): Promise<{ id: string; outputs: PropertyMap }>;
    /** Updates in place; the result is the full new output map. */
    update(existing: ExistingResource, request: EmulatorRequest, context: EmulatorContext): Promise<PropertyMap>;
    delete(existing: ExistingResource, context: EmulatorContext): Promise<void>;
}

/** Fails with a message that names what to configure when a service is missing from the services file. */
export function requireService<T>(value: T | undefined, what: string, urn: string): T {
    if (value === undefined) {
        throw new Error(`${urn} needs ${what} in the services file (--services) of the harness run`);
    }
    return value;
}
