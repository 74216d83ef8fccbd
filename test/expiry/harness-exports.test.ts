// The expiry report over `pulumi stack export` documents of a real stack: examples/route53-kubernetes-secret run
// through the harness against Pebble, exported as the Pulumi CLI exports (with and without --show-secrets), and
// read at several times: by expiryReport, and by the `expiry` command a pipeline runs as its gate.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expiryReport } from "../../provider/expiry/report";
import { assertSucceeded, exportStack, type OutputValue, up } from "../harness/index";
import { libraryType, plain, resourcesOfType } from "../programs/delivered";
import { PROGRAMS, type ProgramStack, programStack } from "../programs/stacks";
import { uniqueName } from "../stack/names";
import { pemBodyLines } from "./exports";

const stack = inject("stack");
const ROOT = path.resolve(__dirname, "../..");
const HOUR = 3600_000;
const apex = uniqueName("example.test", "x");

let dir: string;
let site: ProgramStack;
let issued: Record<string, OutputValue>;
/** The export as `pulumi stack export` writes it (secrets as ciphertext), and with --show-secrets. */
let exportFile: string;
let plaintextExportFile: string;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "expiry-exports-"));
    site = programStack(stack, PROGRAMS.route53KubernetesSecret, {
        domains: [apex, `*.${apex}`],
        zone: "example.test",
    });
    const run = await up(site.options());
    assertSucceeded(run);
    issued = run.outputs;
    exportFile = path.join(dir, "stack.json");
    fs.writeFileSync(exportFile, JSON.stringify(exportStack(site.state), null, 4));
    plaintextExportFile = path.join(dir, "stack-with-secrets.json");
    fs.writeFileSync(plaintextExportFile, JSON.stringify(exportStack(site.state, { showSecrets: true }), null, 4));
});

afterAll(() => {
    site?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Times relative to the certificate the run issued. */
const at = {
    renewAt: () => Date.parse(String(issued.renewAt)),
    notAfter: () => Date.parse(String(issued.notAfter)),
};

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["--import", "tsx", "provider/cli.ts", ...args],
            { cwd: ROOT },
            (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
    });
}

describe("the expiry report over a harness export of a real stack", () => {
    it("finds the stack's one Certificate with its plain fields: ok, then renewal due, then expired", () => {
        const document = JSON.parse(fs.readFileSync(exportFile, "utf8"));
        const reportAt = (now: number) => expiryReport(document, { now });
        const before = reportAt(at.renewAt() - HOUR);
        expect(before.certificates).toEqual([
            expect.objectContaining({
                name: "site-certificate",
                dnsNames: [apex, `*.${apex}`],
                serialNumber: issued.serialNumber,
                notAfter: issued.notAfter,
                renewAt: issued.renewAt,
                status: "ok",
            }),
        ]);
        expect(before.dueWithin).toBe(false);
        expect(reportAt(at.renewAt() + HOUR).certificates[0]).toMatchObject({ status: "renewal due" });
        expect(reportAt(at.notAfter() - HOUR).certificates[0]).toMatchObject({ status: "renewal due" });
        expect(reportAt(at.notAfter() + 24 * HOUR).certificates[0]).toMatchObject({ status: "expired", daysLeft: -1 });
    });

    it.each([
        { when: "60 days before renewAt", now: () => at.renewAt() - 60 * 24 * HOUR, code: 0, status: "ok" },
        { when: "20 days before renewAt", now: () => at.renewAt() - 20 * 24 * HOUR, code: 1, status: "ok" },
        { when: "past renewAt", now: () => at.renewAt() + HOUR, code: 1, status: "renewal due" },
        { when: "past notAfter", now: () => at.notAfter() + HOUR, code: 1, status: "expired" },
    ])("`expiry --within 21d --json` $when: exit code $code", async ({ now, code, status }) => {
        const run = await runCli([
            "expiry",
            exportFile,
            "--within",
            "21d",
            "--json",
            "--now",
            new Date(now()).toISOString(),
        ]);
        expect(run.code).toBe(code);
        const report = JSON.parse(run.stdout);
        expect(report.certificates.map((c: { status: string }) => c.status)).toEqual([status]);
        expect(report.dueWithin).toBe(code === 1);
    });

    it("prints no key material from an export holding plaintext secrets", async () => {
        const keys = resourcesOfType(site.state, libraryType("PrivateKey")).map((key) =>
            String(plain(key.outputs.privateKeyPem)),
        );
        expect(keys).toHaveLength(2); // the account key and the certificate's key
        const keyLines = keys.flatMap(pemBodyLines);
        // The export really holds them, so not finding them below means something.
        const exported = fs.readFileSync(plaintextExportFile, "utf8");
        for (const line of keyLines) expect(exported).toContain(line);

        const now = new Date(at.renewAt() + HOUR).toISOString();
        const runs = await Promise.all([
            runCli(["expiry", plaintextExportFile, "--now", now]),
            runCli(["expiry", plaintextExportFile, "--now", now, "--json"]),
            runCli(["expiry", plaintextExportFile, "--now", now, "--within", "21d"]),
        ]);
        expect(runs.map((run) => run.code)).toEqual([0, 0, 1]);
        for (const run of runs) {
            for (const line of keyLines) {
                expect(run.stdout).not.toContain(line);
                expect(run.stderr).not.toContain(line);
            }
            expect(run.stdout + run.stderr).not.toContain("PRIVATE KEY");
        }
    });
});
