// Which emulator stands in for which resource type, which input changes force a replacement (each real provider's
// ForceNew fields that our library can touch), and the data sources (invokes) the emulators answer.
import type { PropertyMap } from "../values";
import { AcmEmulator } from "./acm";
import { KubernetesEmulator } from "./kubernetes";
import { RecordingEmulator } from "./recorder";
import { getZone, Route53Emulator } from "./route53";
import type { ResourceEmulator, ServicesConfig } from "./types";

export { HTTP01_SOLVER_LABEL } from "./kubernetes";
export { recordFqdn, txtPresentation } from "./route53";
export type { EmulatorContext, ResourceEmulator, ServicesConfig } from "./types";

/** Input paths whose change replaces a resource of the type; types not listed update in place. */
const REPLACE_ON_CHANGES: Record<string, readonly string[]> = {
    "aws:route53/record:Record": ["zoneId", "name", "type", "setIdentifier"],
    "aws:acm/certificate:Certificate": ["domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm"],
    "aws:lb/listener:Listener": ["loadBalancerArn"],
    "aws:lb/listenerCertificate:ListenerCertificate": ["listenerArn", "certificateArn"],
    "kubernetes:core/v1:Secret": ["metadata.name", "metadata.namespace", "type"],
    "kubernetes:core/v1:Namespace": ["metadata.name"],
};
const KUBERNETES_REPLACE_ON_CHANGES = ["metadata.name", "metadata.namespace"];

/** The emulators of one run (they keep per-run locks, so one set per run). */
export class ServiceEmulators {
    private readonly route53 = new Route53Emulator();
    private readonly acm = new AcmEmulator();
    private readonly kubernetes = new KubernetesEmulator();
    private readonly recorder = new RecordingEmulator();

    constructor(readonly services: ServicesConfig) {}

    emulatorFor(type: string): ResourceEmulator {
        if (type === "aws:route53/record:Record") return this.route53;
        if (type === "aws:acm/certificate:Certificate") return this.acm;
        if (type.startsWith("kubernetes:")) return this.kubernetes;
        return this.recorder;
    }

    replaceOnChanges(type: string): readonly string[] {
        return REPLACE_ON_CHANGES[type] ?? (type.startsWith("kubernetes:") ? KUBERNETES_REPLACE_ON_CHANGES : []);
    }

    /** Answers a data source call (the `call` of the mocks), failing for tokens nobody emulates. */
    invoke(token: string, inputs: PropertyMap): PropertyMap {
        if (token === "aws:route53/getZone:getZone") return getZone(this.services, inputs);
        throw new Error(`the harness emulates no data source ${token}: add it in test/harness/services/index.ts`);
    }
}
