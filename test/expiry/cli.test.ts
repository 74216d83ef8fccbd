// The `pulumi-acme-certs expiry` command, run as a child process the way a pipeline runs it. `node --import tsx`
// runs the TypeScript entry point (what `npx tsx` does, without npx's own start-up), and lets a test give the
// child a PATH of its own.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateInState, makeCertificate, pemBodyLines, stackExport, type TestCertificate } from "./exports";

const ROOT = path.resolve(__dirname, "../..");
const NOW = "2026-02-01T00:00:00Z";
const URN = "urn:pulumi:prod::edge-certs::pulumi-nodejs:dynamic/pulumi-acme-certs:Certificate";

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

function runCli(args: string[], options: { input?: string; pathEnv?: string } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "provider/cli.ts", ...args], {
            cwd: ROOT,
            env: { ...process.env, PATH: options.pathEnv ?? process.env.PATH },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk) => {
            stdout += chunk;
        });
        child.stderr.setEncoding("utf8").on("data", (chunk) => {
            stderr += chunk;
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(options.input ?? "");
    });
}

let dir: string;
let certificate: TestCertificate;
let stale: TestCertificate;
let www: CertificateInState;
let api: CertificateInState;
/** An export with plaintext secrets (as `--show-secrets` writes it), in a file. */
let exportFile: string;
let exportText: string;
let secretLines: string[];
const servers: tls.Server[] = [];

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "expiry-cli-"));
    const validity = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2026-04-01T00:00:00Z") };
    certificate = await makeCertificate(["www.example.com", "example.com", "api.example.com"], validity);
    stale = await makeCertificate(["www.example.com", "example.com"], {
        notBefore: new Date("2025-10-01T00:00:00Z"),
        notAfter: validity.notBefore,
    });
    www = {
        name: "www",
        dnsNames: ["www.example.com", "example.com"],
        certificate,
        renewAt: "2026-03-02T00:00:00.000Z",
    };
    api = { name: "api", dnsNames: ["api.example.com"], certificate, renewAt: "2026-02-15T00:00:00.000Z" };
    const fixture = stackExport([www, api], "plaintext", certificate.privateKeyPem);
    exportText = fixture.text;
    exportFile = path.join(dir, "stack.json");
    fs.writeFileSync(exportFile, exportText);
    secretLines = [...pemBodyLines(fixture.privateKeyPem), ...pemBodyLines(fixture.accountKeyPem)];
    // The fixture really holds them, so not finding them in the output means something.
    for (const line of secretLines) expect(exportText).toContain(line);
});

afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(served: TestCertificate): Promise<number> {
    const server = tls.createServer({ cert: served.certificatePem, key: served.privateKeyPem });
    server.on("secureConnection", (socket) => socket.on("error", () => {}));
    servers.push(server);
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
    );
}

/** The cells of a table row, cut at the header's column starts. */
function cells(table: string): string[][] {
    const [header, ...rows] = table.split("\n");
    const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((match) => match.index);
    return [header!, ...rows].map((line) =>
        starts.map((start, column) => line.slice(start, starts[column + 1] ?? line.length).trim()),
    );
}

describe("pulumi-acme-certs expiry", () => {
    it("prints an aligned table of the stack's certificates and exits 0 without --within", async () => {
        const run = await runCli(["expiry", exportFile, "--now", NOW]);
        expect(run).toMatchObject({ code: 0, stderr: "" });
        expect(cells(run.stdout.trimEnd())).toEqual([
            ["NAME", "DNS NAMES", "SERIAL", "NOT AFTER", "RENEW AT", "DAYS LEFT", "STATUS"],
            [
                "www",
                "www.example.com,example.com",
                certificate.serialNumber,
                "2026-04-01T00:00:00Z",
                "2026-03-02T00:00:00Z",
                "59.0",
                "ok",
            ],
            [
                "api",
                "api.example.com",
                certificate.serialNumber,
                "2026-04-01T00:00:00Z",
                "2026-02-15T00:00:00Z",
                "59.0",
                "ok",
            ],
        ]);
    });

    it("shows each status and the reason for an unknown one", async () => {
        const hidden = { ...www, name: "hidden", secretOutputs: ["renewAt"] };
        const file = path.join(dir, "statuses.json");
        fs.writeFileSync(file, stackExport([www, api, hidden], "encrypted", certificate.privateKeyPem).text);
        const run = await runCli(["expiry", file, "--now", "2026-03-01T00:00:00Z"]);
        expect(run.code).toBe(0);
        const [table, notes] = run.stdout.split("\n\n");
        expect(cells(table!).map((row) => [row[0], row[5], row[6]])).toEqual([
            ["NAME", "DAYS LEFT", "STATUS"],
            ["www", "31.0", "ok"],
            ["api", "31.0", "renewal due"],
            ["hidden", "-", "unknown"],
        ]);
        expect(notes).toBe(
            "hidden: unknown: output `renewAt` is a secret in state and this report reads no secrets: make it a plain output\n",
        );
        const expired = await runCli(["expiry", file, "--now", "2026-04-02T00:00:00Z"]);
        expect(cells(expired.stdout.split("\n\n")[0]!).map((row) => row[6])).toEqual([
            "STATUS",
            "expired",
            "expired",
            "unknown",
        ]);
    });

    it.each([
        { within: "13d", code: 0 },
        { within: "14d", code: 1 },
        { within: "2d", now: "2026-02-20T00:00:00Z", code: 1 },
    ])("exits $code with --within $within", async ({ within, now, code }) => {
        const run = await runCli(["expiry", exportFile, "--now", now ?? NOW, "--within", within]);
        expect(run.code).toBe(code);
        expect(run.stderr).toBe(
            code === 0
                ? ""
                : `pulumi-acme-certs: a certificate is due for renewal or expires within ${within} (see RENEW AT): run \`pulumi up\` to renew it\n`,
        );
    });

    it("fails the --within gate for a certificate it cannot read", async () => {
        const file = path.join(dir, "hidden.json");
        const hidden = { ...www, secretOutputs: ["notAfter"] };
        fs.writeFileSync(file, stackExport([hidden], "encrypted", certificate.privateKeyPem).text);
        const run = await runCli(["expiry", file, "--now", NOW, "--within", "1d"]);
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
            "pulumi-acme-certs: unknown: 1 certificate could not be read, and the gate fails for what it cannot check\n",
        );
    });

    it("prints the report object with --json, from a file, from - and from piped input alike", async () => {
        const expected = {
            certificates: [
                {
                    urn: `${URN}::www`,
                    name: "www",
                    dnsNames: ["www.example.com", "example.com"],
                    serialNumber: certificate.serialNumber,
                    notBefore: "2026-01-01T00:00:00.000Z",
                    notAfter: "2026-04-01T00:00:00.000Z",
                    renewAt: "2026-03-02T00:00:00.000Z",
                    daysLeft: 59,
                    status: "ok",
                },
                {
                    urn: `${URN}::api`,
                    name: "api",
                    dnsNames: ["api.example.com"],
                    serialNumber: certificate.serialNumber,
                    notBefore: "2026-01-01T00:00:00.000Z",
                    notAfter: "2026-04-01T00:00:00.000Z",
                    renewAt: "2026-02-15T00:00:00.000Z",
                    daysLeft: 59,
                    status: "ok",
                },
            ],
            dueWithin: true,
        };
        const runs = await Promise.all([
            runCli(["expiry", exportFile, "--json", "--now", NOW, "--within", "21d"]),
            runCli(["expiry", "-", "--json", "--now", NOW, "--within", "21d"], { input: exportText }),
            runCli(["expiry", "--json", "--now", NOW, "--within", "21d"], { input: exportText }),
        ]);
        for (const run of runs) {
            expect(run.code).toBe(1);
            expect(JSON.parse(run.stdout)).toStrictEqual(expected);
        }
    });

    it("with --served compares what each name serves, and exits 1 for a stale deployment", async () => {
        const [current, old] = await Promise.all([serve(certificate), serve(stale)]);
        const connect = (port: number, ...names: string[]) =>
            names.flatMap((name) => ["--connect", `${name}=127.0.0.1:${port}`]);
        const args = [
            "expiry",
            exportFile,
            "--now",
            NOW,
            "--served",
            ...connect(current, "www.example.com", "api.example.com"),
        ];

        const staleRun = await runCli([...args, ...connect(old, "example.com")]);
        expect(staleRun.code).toBe(1);
        const [table, notes] = staleRun.stdout.split("\n\n");
        expect(cells(table!).map((row) => [row[0], row[7]])).toEqual([
            ["NAME", "SERVED"],
            ["www", "1 served, 1 stale deployment"],
            ["api", "served"],
        ]);
        expect(notes).toBe(
            `example.com: stale deployment: 127.0.0.1:${old} serves serial ${stale.serialNumber} ` +
                `(notAfter 2026-01-01T00:00:00.000Z), but the state has serial ${certificate.serialNumber} ` +
                "(notAfter 2026-04-01T00:00:00.000Z): deliver the certificate in state to this endpoint\n",
        );
        expect(staleRun.stderr).toBe(
            "pulumi-acme-certs: stale deployment: the certificate in state is not served for 1 name\n",
        );

        const servedRun = await runCli([...args, ...connect(current, "example.com"), "--json"]);
        expect(servedRun).toMatchObject({ code: 0, stderr: "" });
        const report = JSON.parse(servedRun.stdout);
        expect(Object.keys(report)).toEqual(["certificates", "dueWithin", "served"]);
        expect(
            report.served.map((result: { dnsName: string; status: string }) => [result.dnsName, result.status]),
        ).toEqual([
            ["www.example.com", "served"],
            ["example.com", "served"],
            ["api.example.com", "served"],
        ]);
    });

    it("exits 1 with --served when a name cannot be reached", async () => {
        const closed = await new Promise<number>((resolve) => {
            const server = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = server.address() as net.AddressInfo;
                server.close(() => resolve(port));
            });
        });
        const file = path.join(dir, "api-only.json");
        fs.writeFileSync(file, stackExport([api], "encrypted", certificate.privateKeyPem).text);
        const run = await runCli([
            "expiry",
            file,
            "--now",
            NOW,
            "--served",
            "--connect",
            `api.example.com=127.0.0.1:${closed}`,
        ]);
        expect(run.code).toBe(1);
        expect(run.stdout).toContain(`api.example.com: unreachable: 127.0.0.1:${closed}: connection refused`);
        expect(run.stderr).toBe("pulumi-acme-certs: unreachable: 1 name could not be checked\n");
    });

    it("with --stack and no pulumi on PATH, exits 2 saying how to export the stack", async () => {
        const emptyBin = fs.mkdtempSync(path.join(dir, "bin-"));
        const run = await runCli(["expiry", "--stack", "prod"], { pathEnv: emptyBin });
        expect(run.code).toBe(2);
        expect(run.stdout).toBe("");
        expect(run.stderr).toContain(
            "pulumi-acme-certs: `pulumi` is not on PATH, so --stack cannot export the stack: export it where the " +
                "Pulumi CLI is and give the file, e.g. `pulumi stack export --stack prod > stack.json` then " +
                "`pulumi-acme-certs expiry stack.json`",
        );
        expect(run.stderr).toContain("Usage: pulumi-acme-certs expiry");
    });

    it("with --stack runs `pulumi stack export --stack NAME`, and reports its failure", async () => {
        const bin = fs.mkdtempSync(path.join(dir, "bin-"));
        const pulumi = path.join(bin, "pulumi");
        fs.writeFileSync(
            pulumi,
            `#!${process.execPath}\n` +
                `const args = process.argv.slice(2).join(" ");\n` +
                `if (args !== "stack export --stack prod") { console.error("error: no stack named 'missing' found"); process.exit(255); }\n` +
                `process.stdout.write(require("node:fs").readFileSync(${JSON.stringify(exportFile)}, "utf8"));\n`,
            { mode: 0o755 },
        );
        const [exported, missing] = await Promise.all([
            runCli(["expiry", "--stack", "prod", "--json", "--now", NOW], { pathEnv: bin }),
            runCli(["expiry", "--stack", "missing"], { pathEnv: bin }),
        ]);
        expect(exported.code).toBe(0);
        expect(JSON.parse(exported.stdout).certificates.map((c: { name: string }) => c.name)).toEqual(["www", "api"]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(
            /^pulumi-acme-certs: `pulumi stack export --stack missing` failed: error: no stack named 'missing' found\n/,
        );
    });

    it("prints the usage with --help", async () => {
        const run = await runCli(["expiry", "--help"]);
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/^Usage: pulumi-acme-certs expiry \[FILE\|-\] \[options\]\n/);
        expect(run.stdout).toContain("Exit status: 0 ok, 1 needs attention (see above), 2 usage or input error.");
    });
});

describe.concurrent("pulumi-acme-certs expiry, usage and input errors (exit 2, message and usage on stderr)", () => {
    it.each([
        { args: [], message: "give a command: expiry" },
        { args: ["expire"], message: 'unknown command "expire": the command is "expiry"' },
        { args: ["expiry", "--bogus"], message: "Unknown option '--bogus'" },
        { args: ["expiry", "a.json", "b.json"], message: "give at most one FILE" },
        { args: ["expiry", "{FILE}", "--stack", "prod"], message: "give either FILE or --stack, not both" },
        { args: ["expiry", "{FILE}", "--within", "3w"], message: '--within "3w" is not a duration' },
        { args: ["expiry", "{FILE}", "--now", "soon"], message: '--now "soon" is not an ISO 8601 time' },
        { args: ["expiry", "{FILE}", "--connect", "a=b"], message: "--connect only applies with --served" },
        { args: ["expiry", "{FILE}", "--served", "--connect", "x"], message: '--connect "x": write NAME=HOST[:PORT]' },
        {
            args: ["expiry", "{FILE}", "--served", "--connect", "a=b:99999"],
            message: '--connect a: "b:99999" is not an endpoint',
        },
        {
            args: ["expiry", "{FILE}", "--served", "--connect", "typo.example.com=127.0.0.1:1"],
            message: "--connect typo.example.com: no certificate in {FILE} has this name",
        },
        { args: ["expiry", "{DIR}/missing.json"], message: "cannot read {DIR}/missing.json: ENOENT" },
        { args: ["expiry"], input: "", message: "standard input is empty: give the output of `pulumi stack export`" },
        { args: ["expiry"], input: '{"version": 3, "deploy', message: "standard input is not JSON" },
        {
            args: ["expiry", "-"],
            input: '{"hello": "world"}',
            message: "not a `pulumi stack export` document: expected",
        },
    ])("exits 2 for: $message", async ({ args, input, message }) => {
        const fill = (text: string) => text.replaceAll("{FILE}", exportFile).replaceAll("{DIR}", dir);
        const run = await runCli(args.map(fill), { input });
        expect(run.code).toBe(2);
        expect(run.stdout).toBe("");
        expect(run.stderr).toContain(`pulumi-acme-certs: ${fill(message)}`);
        expect(run.stderr).toContain("\n\nUsage: pulumi-acme-certs expiry [FILE|-] [options]\n");
    });
});

describe("pulumi-acme-certs expiry with an export holding plaintext secrets", () => {
    it("prints no line of the private key or the account key, in any mode or error", async () => {
        const port = await serve(certificate);
        const connect = ["www.example.com", "example.com", "api.example.com"].flatMap((name) => [
            "--connect",
            `${name}=127.0.0.1:${port}`,
        ]);
        const keyAsInput = secretLines.join("\n");
        const resourcesAsKey = JSON.stringify({ version: 3, deployment: { resources: keyAsInput } });
        const runs = await Promise.all([
            runCli(["expiry", exportFile, "--now", NOW]),
            runCli(["expiry", exportFile, "--now", NOW, "--json"]),
            runCli(["expiry", exportFile, "--now", NOW, "--within", "30d", "--served", ...connect]),
            runCli(["expiry", exportFile, "--now", NOW, "--json", "--served", ...connect]),
            runCli(["expiry", "--now", "2027-01-01T00:00:00Z", "--within", "1d"], { input: exportText }),
            // error paths: a cut-off export, the key itself, a non-export holding the key, a bad option
            runCli(["expiry", "-"], { input: exportText.slice(0, exportText.indexOf(secretLines[0]!) + 80) }),
            runCli(["expiry", "-"], { input: keyAsInput }),
            runCli(["expiry", "-"], { input: resourcesAsKey }),
            runCli(["expiry", exportFile, "--within", "forever"]),
        ]);
        expect(runs.map((run) => run.code)).toEqual([0, 0, 1, 0, 1, 2, 2, 2, 2]);
        // Whole lines, and any 10 characters of one: a JSON parser's message quotes 10 around the error.
        const fragments = secretLines.flatMap((line) => [...line].map((_, at) => line.slice(at, at + 10)));
        for (const run of runs) {
            for (const secret of [...secretLines, ...fragments.filter((fragment) => fragment.length === 10)]) {
                expect(run.stdout).not.toContain(secret);
                expect(run.stderr).not.toContain(secret);
            }
        }
    });
});
