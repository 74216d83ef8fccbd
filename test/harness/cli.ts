// The harness's `pulumi`: runs one command against one stack in this process (the program process), with the
// dynamic-provider host as a child process, as a real `pulumi up` would. Usually started by index.ts; by hand:
//
//   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx test/harness/cli.ts up --program examples/x/index.ts \
//       --state .harness/x.json --config config.json --services services.json --result result.json
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type ConfigFile, parseConfig, programConfigEnvironment } from "./config";
import { formatResult } from "./display";
import type { Command, RunResult } from "./result";
import type { ServicesConfig } from "./services/types";
import { readState } from "./state";

const COMMANDS: readonly Command[] = ["up", "preview", "refresh", "destroy"];

const USAGE = `usage: cli.ts <${COMMANDS.join("|")}> --state <file> [--program <index.ts>] [--stack <name>]
    [--config <json>] [--services <json>] [--result <json>] [--refresh] [--expect-no-changes]
    [--clock-offset <seconds>] [--host-cwd <dir>] [--kill-host-during <type suffix>:<ms>]`;

/** The repository root: the provider host's default directory (its node_modules holds the installed packages). */
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            program: { type: "string" },
            state: { type: "string" },
            stack: { type: "string", default: "dev" },
            config: { type: "string" },
            services: { type: "string" },
            result: { type: "string" },
            refresh: { type: "boolean", default: false },
            "expect-no-changes": { type: "boolean", default: false },
            "clock-offset": { type: "string" },
            "host-cwd": { type: "string", default: REPOSITORY_ROOT },
            "kill-host-during": { type: "string" },
        },
    });
    const command = positionals[0] as Command;
    if (positionals.length !== 1 || !COMMANDS.includes(command)) throw new UsageError(USAGE);
    if (!values.state) throw new UsageError(`--state is required\n${USAGE}`);
    if (process.env.TSX_TSCONFIG_PATH === undefined) {
        throw new UsageError(
            "set TSX_TSCONFIG_PATH=tsconfig.base.json (index.ts does): with the repository's tsconfig.json, tsx maps " +
                "pulumi-acme-certs to its TypeScript source, which a real program never sees and Pulumi would " +
                "serialize by value",
        );
    }
    const stateFile = path.resolve(values.state);
    const program = values.program ? path.resolve(values.program) : undefined;
    if ((command === "up" || command === "preview") && !program) throw new UsageError(`${command} needs --program`);
    const project = program ? projectNameOf(program) : readState(stateFile)?.project;
    if (!project) throw new UsageError(`${stateFile} does not exist: ${command} needs a stack that was deployed`);
    const config = parseConfig(values.config ? readJson<ConfigFile>(values.config) : {}, project);

    // The language host sets the config before the program loads @pulumi/pulumi; so do we.
    Object.assign(process.env, programConfigEnvironment(config));
    const { Engine } = require("./engine") as typeof import("./engine");
    const engine = new Engine({
        stateFile,
        project,
        stack: values.stack,
        config,
        services: values.services ? readJson<ServicesConfig>(values.services) : {},
        hostCwd: path.resolve(values["host-cwd"]),
        ...(values["clock-offset"]
            ? { clockOffsetSeconds: numberOption("--clock-offset", values["clock-offset"]) }
            : {}),
        ...(values["kill-host-during"] ? { killHostDuring: parseHostKill(values["kill-host-during"]) } : {}),
        print: (line) => console.log(line),
    });
    // Like the language host: an error the program does not handle fails the run instead of the process.
    process.on("unhandledRejection", (error) => engine.programFailed(error));
    process.on("uncaughtException", (error) => engine.programFailed(error));

    let outputs = {};
    if (command === "up" || command === "preview") {
        const programDirectory = path.dirname(program!);
        process.chdir(programDirectory);
        outputs = await engine.up(() => loadProgram(program!), {
            preview: command === "preview",
            refresh: values.refresh,
        });
    } else if (command === "refresh") {
        await engine.refresh({ expectNoChanges: values["expect-no-changes"] });
    } else {
        await engine.destroy();
    }
    const result = await engine.finish(command, outputs);
    report(result, values.result);
    return result.ok ? 0 : 1;
}

/** Loads the program module; its exports are the stack outputs (an exported function is called first). */
function loadProgram(program: string): unknown {
    const exported = require(program);
    return typeof exported === "function" ? exported() : exported;
}

/** The `name:` of the Pulumi.yaml beside the program. */
function projectNameOf(program: string): string {
    const projectFile = path.join(path.dirname(program), "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) throw new UsageError(`${projectFile} is missing: a program needs its Pulumi.yaml`);
    const name = fs.readFileSync(projectFile, "utf8").match(/^name:\s*["']?([^"'\s#]+)/m)?.[1];
    if (!name) throw new UsageError(`${projectFile} has no "name:"`);
    return name;
}

function parseHostKill(option: string): { type: string; afterMs: number } {
    const [type, afterMs] = option.split(":");
    if (!type || afterMs === undefined)
        throw new UsageError(`--kill-host-during takes <type suffix>:<ms>, got ${option}`);
    return { type, afterMs: numberOption("--kill-host-during", afterMs) };
}

function numberOption(name: string, text: string): number {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new UsageError(`${name} takes a number, got ${text}`);
    return value;
}

function readJson<T>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

function report(result: RunResult, resultFile: string | undefined): void {
    console.log(formatResult(result));
    if (resultFile) fs.writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
        console.error(error instanceof UsageError ? error.message : error);
        process.exit(2);
    },
);
