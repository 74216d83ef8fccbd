// The fixture's dynamic provider. This module's exports ARE the provider (notes §1.5), so Pulumi serializes it as
// require("harness-fixture-provider/dist/provider.js"). Each resource owns a "remote object": a JSON file in
// `remoteDir`, so tests can see what the host really did, and change it behind the stack's back (drift).
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** The engine's placeholder for a value not known yet (previews). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const DEFAULT_LIFETIME_SECONDS = 3600;

let greeting = "hello";

/** Reads `<project>:greeting` from the stack config. */
async function configure(request) {
    greeting = request.config.get("greeting") ?? "hello";
}

async function check(_olds, news) {
    const failures = [];
    if (news.label !== UNKNOWN && (typeof news.label !== "string" || news.label === "")) {
        failures.push({ property: "label", reason: "label must be a non-empty string" });
    }
    return { inputs: { lifetimeSeconds: DEFAULT_LIFETIME_SECONDS, ...news }, failures };
}

/** `generation` and expiry replace; `label` and `note` update in place. */
async function diff(_id, olds, news) {
    const replaces = [];
    if (news.generation !== olds.generation) replaces.push("generation");
    if (Date.parse(olds.expiresAt) <= Date.now()) replaces.push("expiresAt");
    const changes = replaces.length > 0 || news.label !== olds.label || news.note !== olds.note;
    return { changes, replaces };
}

async function create(inputs) {
    if (inputs.createDelayMs) await new Promise((resolve) => setTimeout(resolve, inputs.createDelayMs));
    const id = `thing-${crypto.randomBytes(6).toString("hex")}`;
    const createdAt = new Date();
    writeRemote(inputs.remoteDir, id, inputs);
    console.log(`[fixture] created ${id} (${inputs.label})`);
    return {
        id,
        outs: jsonClean({
            ...inputs,
            token: crypto.randomBytes(16).toString("hex"),
            digest: digestOf(inputs.label),
            greeting,
            createdAt: createdAt.toISOString(),
            expiresAt: new Date(createdAt.getTime() + inputs.lifetimeSeconds * 1000).toISOString(),
        }),
    };
}

/** Reports the remote label; a missing remote object means the resource is gone. */
async function read(id, props) {
    const file = remoteFile(props.remoteDir, id);
    if (!fs.existsSync(file)) return { id: "", props: {} };
    const remote = JSON.parse(fs.readFileSync(file, "utf8"));
    console.log(`[fixture] read ${id}`);
    return { id, props: { ...props, label: remote.label, digest: digestOf(remote.label) } };
}

async function update(id, olds, news) {
    writeRemote(news.remoteDir, id, news);
    console.log(`[fixture] updated ${id} (${news.label})`);
    return { outs: jsonClean({ ...olds, label: news.label, note: news.note, digest: digestOf(news.label), greeting }) };
}

async function del(id, props) {
    fs.rmSync(remoteFile(props.remoteDir, id), { force: true });
    console.log(`[fixture] deleted ${id}`);
}

function writeRemote(remoteDir, id, inputs) {
    fs.writeFileSync(remoteFile(remoteDir, id), JSON.stringify({ label: inputs.label, generation: inputs.generation }));
}

function remoteFile(remoteDir, id) {
    return path.join(remoteDir, `${id}.json`);
}

function digestOf(label) {
    return crypto.createHash("sha256").update(label).digest("hex").slice(0, 16);
}

/** Outputs must be JSON: the host fails on `undefined`. */
function jsonClean(value) {
    return JSON.parse(JSON.stringify(value));
}

module.exports = { configure, check, diff, create, read, update, delete: del };
