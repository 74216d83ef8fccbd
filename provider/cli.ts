#!/usr/bin/env node
// `pulumi-acme-certs`, the command line of this library. Its command `expiry` is a pipeline gate: renewal only
// happens when someone runs `pulumi up`, so a scheduled job runs this over the stack's state to fail before a
// certificate expires, and (with --served) when the endpoints still serve an older certificate than the state's.
// The stack export is sensitive: nothing of the input is ever printed except the report's own plain fields.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type ExpiryReport, type ExpiryStatus, expiryReport } from "./expiry/report";
import { checkServed, parseEndpoint, type ServedResult, type ServedStatus } from "./expiry/served";
import { parseDuration } from "./renewal/duration";

const USAGE = `Usage: pulumi-acme-certs expiry [FILE|-] [options]

Reports when each pulumi-acme-certs certificate in a \`pulumi stack export\` document expires and renews.
Reads FILE, standard input when FILE is "-" or input is piped, or the export of --stack.

Options:
  --stack NAME               run \`pulumi stack export --stack NAME\` for the input
  --within DURATION          exit 1 when a certificate is due or expires within DURATION, e.g. 21d,
                             or when one cannot be read
  --served                   connect to each name on port 443 and compare the certificate it serves;
                             exit 1 when one serves another certificate or cannot be reached
  --connect NAME=HOST[:PORT] with --served: connect to HOST:PORT for NAME (repeatable); required to check
                             a wildcard name, e.g. --connect '*.example.com=app.example.com'
  --now TIME                 report at this ISO 8601 time instead of the clock
  --json                     print the report as JSON
  -h, --help                 print this help

Exit status: 0 ok, 1 needs attention (see above), 2 usage or input error.`;

const EXIT_OK = 0;
const EXIT_ATTENTION = 1;
const EXIT_USAGE = 2;

type Source = { file: string } | { stdin: true } | { stack: string };

interface ExpiryCommand {
    source: Source;
    now: number | undefined;
    /** As the user wrote it, for messages. */
    within: { text: string; seconds: number } | undefined;
    json: boolean;
    served: boolean;
    /** DNS name → endpoint, for --served. */
    connect: Record<string, string>;
}

async function main(argv: string[]): Promise<number> {
    try {
        const command = parseCommand(argv);
        if (command === "help") {
            process.stdout.write(`${USAGE}\n`);
            return EXIT_OK;
        }
        return await runExpiry(command);
    } catch (error) {
        // Every error here is a mistake in the command line or its input, and no message quotes the input.
        process.stderr.write(`pulumi-acme-certs: ${(error as Error).message}\n\n${USAGE}\n`);
        return EXIT_USAGE;
    }
}

function parseCommand(argv: string[]): ExpiryCommand | "help" {
    const { values, positionals } = parseOptions(argv);
    if (values.help) return "help";
    const [name, file, ...extra] = positionals;
    if (name === undefined) throw new Error("give a command: expiry");
    if (name !== "expiry") throw new Error(`unknown command ${JSON.stringify(name)}: the command is "expiry"`);
    if (extra.length > 0) throw new Error("give at most one FILE");
    if (file !== undefined && values.stack !== undefined) throw new Error("give either FILE or --stack, not both");
    if (values.connect && !values.served) throw new Error("--connect only applies with --served");
    return {
        source: inputSource(file, values.stack),
        now: values.now === undefined ? undefined : parseTime(values.now),
        within: values.within === undefined ? undefined : parseWithin(values.within),
        json: values.json ?? false,
        served: values.served ?? false,
        connect: Object.fromEntries((values.connect ?? []).map(parseConnect)),
    };
}

function parseOptions(argv: string[]) {
    return parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
            stack: { type: "string" },
            within: { type: "string" },
            json: { type: "boolean" },
            served: { type: "boolean" },
            connect: { type: "string", multiple: true },
            now: { type: "string" },
            help: { type: "boolean", short: "h" },
        },
    });
}

function inputSource(file: string | undefined, stack: string | undefined): Source {
    if (file === "-") return { stdin: true };
    if (file !== undefined) return { file };
    if (stack !== undefined) return { stack };
    if (process.stdin.isTTY) {
        throw new Error("no input: give FILE, pipe `pulumi stack export` into this command, or use --stack NAME");
    }
    return { stdin: true };
}

function parseTime(text: string): number {
    const time = Date.parse(text);
    if (Number.isNaN(time)) {
        throw new Error(`--now ${JSON.stringify(text)} is not an ISO 8601 time: write e.g. 2026-05-01T00:00:00Z`);
    }
    return time;
}

function parseWithin(text: string): { text: string; seconds: number } {
    const parsed = parseDuration(text);
    if ("problem" in parsed) throw new Error(`--within ${parsed.problem}`);
    return { text, seconds: parsed.seconds };
}

function parseConnect(text: string): [string, string] {
    const separator = text.indexOf("=");
    if (separator <= 0) {
        throw new Error(
            `--connect ${JSON.stringify(text)}: write NAME=HOST[:PORT], e.g. www.example.com=127.0.0.1:8443`,
        );
    }
    const [name, endpoint] = [text.slice(0, separator), text.slice(separator + 1)];
    try {
        parseEndpoint(endpoint);
    } catch (error) {
        throw new Error(`--connect ${name}: ${(error as Error).message}`);
    }
    return [name, endpoint];
}

async function runExpiry(command: ExpiryCommand): Promise<number> {
    const { text, origin } = await readInput(command.source);
    const report = expiryReport(parseJson(text, origin), { now: command.now, within: command.within?.seconds });
    const names = new Set(report.certificates.flatMap((certificate) => certificate.dnsNames));
    for (const name of Object.keys(command.connect)) {
        if (!names.has(name)) throw new Error(`--connect ${name}: no certificate in ${origin} has this name`);
    }
    const served = command.served ? await checkServed(report.certificates, { connect: command.connect }) : undefined;
    process.stdout.write(command.json ? `${JSON.stringify({ ...report, served }, null, 2)}\n` : table(report, served));
    const problems = attention(command, report, served);
    for (const problem of problems) process.stderr.write(`pulumi-acme-certs: ${problem}\n`);
    return problems.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}

/** Why the gate fails, one sentence each; empty when it passes. */
function attention(command: ExpiryCommand, report: ExpiryReport, served: ServedResult[] | undefined): string[] {
    const problems: string[] = [];
    const certificates = (status: ExpiryStatus) => report.certificates.filter((c) => c.status === status).length;
    const names = (status: ServedStatus) => (served ?? []).filter((result) => result.status === status).length;
    if (command.within !== undefined && report.dueWithin) {
        problems.push(
            `a certificate is due for renewal or expires within ${command.within.text} (see RENEW AT): ` +
                "run `pulumi up` to renew it",
        );
    }
    if (command.within !== undefined && certificates("unknown") > 0) {
        problems.push(
            `unknown: ${count(certificates("unknown"), "certificate")} could not be read, ` +
                "and the gate fails for what it cannot check",
        );
    }
    if (names("stale deployment") > 0) {
        problems.push(
            `stale deployment: the certificate in state is not served for ${count(names("stale deployment"), "name")}`,
        );
    }
    if (names("unreachable") > 0) {
        problems.push(`unreachable: ${count(names("unreachable"), "name")} could not be checked`);
    }
    return problems;
}

interface Input {
    text: string;
    /** What the input is, for messages: never its content. */
    origin: string;
}

async function readInput(source: Source): Promise<Input> {
    if ("stack" in source)
        return { text: await exportStack(source.stack), origin: `the export of stack ${source.stack}` };
    if ("stdin" in source) {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        return { text: Buffer.concat(chunks).toString("utf8"), origin: "standard input" };
    }
    try {
        return { text: await fs.promises.readFile(source.file, "utf8"), origin: source.file };
    } catch (error) {
        throw new Error(`cannot read ${source.file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
}

function parseJson(text: string, origin: string): unknown {
    if (text.trim() === "") {
        throw new Error(
            `${origin} is empty: give the output of \`pulumi stack export\` as FILE, piped, or with --stack`,
        );
    }
    try {
        return JSON.parse(text);
    } catch {
        // The parser's message quotes the text around the error, and the text may hold secrets.
        throw new Error(`${origin} is not JSON: give the output of \`pulumi stack export\``);
    }
}

function exportStack(stack: string): Promise<string> {
    const exportCommand = `pulumi stack export --stack ${stack}`;
    const pulumi = findOnPath("pulumi");
    if (pulumi === undefined) {
        throw new Error(
            `\`pulumi\` is not on PATH, so --stack cannot export the stack: export it where the Pulumi CLI is ` +
                `and give the file, e.g. \`${exportCommand} > stack.json\` then ` +
                "`pulumi-acme-certs expiry stack.json`, or pipe the export into this command",
        );
    }
    return new Promise((resolve, reject) => {
        const args = ["stack", "export", "--stack", stack];
        execFile(pulumi, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`\`${exportCommand}\` failed: ${stderr.trim() || error.message}`));
            else resolve(stdout);
        });
    });
}

function findOnPath(binary: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir === "") continue;
        const candidate = path.join(dir, binary);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not in this directory
        }
    }
    return undefined;
}

/** The report as an aligned table, then a note for each certificate or name that needs one. */
function table(report: ExpiryReport, served: ServedResult[] | undefined): string {
    if (report.certificates.length === 0) return "No pulumi-acme-certs certificates in this stack.\n";
    const header = ["NAME", "DNS NAMES", "SERIAL", "NOT AFTER", "RENEW AT", "DAYS LEFT", "STATUS"];
    const rows = report.certificates.map((certificate) => [
        certificate.name,
        certificate.dnsNames.join(",") || "-",
        certificate.serialNumber ?? "-",
        displayTime(certificate.notAfter),
        displayTime(certificate.renewAt),
        certificate.daysLeft?.toFixed(1) ?? "-",
        certificate.status,
    ]);
    const notes = report.certificates.flatMap((certificate) =>
        certificate.reason === undefined ? [] : [`${certificate.name}: unknown: ${certificate.reason}`],
    );
    if (served !== undefined) {
        header.push("SERVED");
        report.certificates.forEach((certificate, index) => {
            rows[index]!.push(servedSummary(served.filter((result) => result.urn === certificate.urn)));
        });
        for (const result of served) {
            if (result.status !== "served") notes.push(`${result.dnsName}: ${result.status}: ${result.message}`);
        }
    }
    return [...aligned([header, ...rows]), ...(notes.length > 0 ? ["", ...notes] : [])].join("\n") + "\n";
}

/** Columns padded to their widest cell, two spaces apart. */
function aligned(rows: string[][]): string[] {
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    return rows.map((row) =>
        row
            .map((cell, column) => cell.padEnd(widths[column]!))
            .join("  ")
            .trimEnd(),
    );
}

/** One status when all names agree, else how many names are in each. */
function servedSummary(results: ServedResult[]): string {
    const counts = new Map<ServedStatus, number>();
    for (const { status } of results) counts.set(status, (counts.get(status) ?? 0) + 1);
    if (counts.size === 0) return "-";
    if (counts.size === 1) return [...counts.keys()][0]!;
    return [...counts].map(([status, names]) => `${names} ${status}`).join(", ");
}

/** ISO 8601 without milliseconds, which certificates do not carry. */
function displayTime(iso: string | null): string {
    return iso?.replace(/\.000Z$/, "Z") ?? "-";
}

function count(amount: number, noun: string): string {
    return `${amount} ${noun}${amount === 1 ? "" : "s"}`;
}

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
