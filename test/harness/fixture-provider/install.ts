// Installs the fixture provider package into the repository's node_modules as a COPY, the way npm places a
// package: Pulumi serializes a provider as require("<package>/dist/provider.js") only when its module lives
// under node_modules; a symlink resolves to the real path outside it and would be serialized by value.
import * as fs from "node:fs";
import * as path from "node:path";

export const FIXTURE_PACKAGE = "harness-fixture-provider";

const SOURCE = __dirname;
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..", "..");

/** Copies package.json and src/* (as dist/*); file by file with atomic renames, so parallel test files may race. */
export function installFixtureProvider(): string {
    const target = path.join(REPOSITORY_ROOT, "node_modules", FIXTURE_PACKAGE);
    fs.mkdirSync(path.join(target, "dist"), { recursive: true });
    const files: Array<[string, string]> = [[path.join(SOURCE, "package.json"), path.join(target, "package.json")]];
    for (const name of fs.readdirSync(path.join(SOURCE, "src"))) {
        files.push([path.join(SOURCE, "src", name), path.join(target, "dist", name)]);
    }
    for (const [from, to] of files) {
        const content = fs.readFileSync(from);
        if (fs.existsSync(to) && fs.readFileSync(to).equals(content)) continue;
        const temporary = `${to}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, content);
        fs.renameSync(temporary, to);
    }
    return target;
}
