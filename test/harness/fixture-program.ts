// The fixture program (programs/fixture) set up for one test: its own names, state file, remote-object directory
// and certificate, and the stack's services. Each test file gets stacks that cannot collide with another's.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestStackInfo } from "../stack/index";
import { uniqueName } from "../stack/names";
import { installFixtureProvider } from "./fixture-provider/install";
import type { RunOptions } from "./index";
import { issueTestCertificate, type TestCertificate } from "./test-certificates";

export const FIXTURE_PROGRAM = path.join(__dirname, "programs", "fixture", "index.ts");
export const FIXTURE_PROJECT = "harness-fixture";
export const HOSTED_ZONE_ID = "Z0EXAMPLETEST";
export const ZONE = "example.test";

/** The fixture program's config keys (see programs/fixture/index.ts). */
export interface FixtureConfig {
    label?: string;
    generation?: number;
    createDelayMs?: number;
    /** Leaves the CNAME record out of the program. */
    withoutCname?: boolean;
    /** Overrides the certificate's key (for a mismatch). */
    privateKeyPem?: string;
}

export interface FixtureStack {
    /** The program's site, `<prefix>.example.test`. */
    site: string;
    stateFile: string;
    remoteDir: string;
    certificate: TestCertificate & { otherKeyPem: string };
    /** Run options for this stack, with config changes on top of the defaults. */
    options(config?: FixtureConfig, extra?: Partial<RunOptions>): RunOptions;
    /** The URN of a resource of the fixture program, by type and name. */
    urn(type: string, name: string): string;
    remove(): void;
}

export async function fixtureStack(stack: TestStackInfo): Promise<FixtureStack> {
    installFixtureProvider();
    const site = uniqueName(ZONE, "h");
    const prefix = site.slice(0, -(ZONE.length + 1));
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "harness-fixture-"));
    const remoteDir = path.join(directory, "remote");
    fs.mkdirSync(remoteDir);
    const stateFile = path.join(directory, "state.json");
    const certificate = await issueTestCertificate(site);
    return {
        site,
        stateFile,
        remoteDir,
        certificate,
        options(config = {}, extra = {}) {
            return {
                program: FIXTURE_PROGRAM,
                state: stateFile,
                services: { bind: stack.bind, http01: stack.http01, hostedZones: { [HOSTED_ZONE_ID]: ZONE } },
                config: {
                    prefix,
                    remoteDir,
                    note: { secure: "the-note-is-secret" },
                    greeting: "hello-from-config",
                    certificatePem: certificate.certificatePem,
                    chainPem: certificate.chainPem,
                    privateKeyPem: { secure: config.privateKeyPem ?? certificate.privateKeyPem },
                    ...(config.label !== undefined ? { label: config.label } : {}),
                    ...(config.generation !== undefined ? { generation: config.generation } : {}),
                    ...(config.createDelayMs !== undefined ? { createDelayMs: config.createDelayMs } : {}),
                    ...(config.withoutCname ? { withoutCname: true } : {}),
                },
                ...extra,
            };
        },
        urn: (type, name) => `urn:pulumi:dev::${FIXTURE_PROJECT}::${type}::${name}`,
        remove: () => fs.rmSync(directory, { recursive: true, force: true }),
    };
}
