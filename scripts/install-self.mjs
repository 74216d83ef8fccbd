// Installs the freshly built package into ./node_modules/pulumi-acme-certs as a COPY, the way `npm install`
// places it for users. Pulumi serializes a dynamic provider as require("pulumi-acme-certs/dist/...") only when
// the module lives under node_modules; a symlink would resolve to the repository and be serialized by value.
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const target = path.join(root, "node_modules", "pulumi-acme-certs");
if (!fs.existsSync(path.join(root, "dist", "index.js"))) {
    console.error("dist/ is missing: run `npm run build` first");
    process.exit(1);
}
fs.rmSync(target, { recursive: true, force: true });
fs.mkdirSync(target, { recursive: true });
fs.copyFileSync(path.join(root, "package.json"), path.join(target, "package.json"));
fs.cpSync(path.join(root, "dist"), path.join(target, "dist"), { recursive: true });
