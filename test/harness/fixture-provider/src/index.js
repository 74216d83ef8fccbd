// The fixture's resource: a pulumi.dynamic.Resource whose provider is the module exports of ./provider.
"use strict";
const pulumi = require("@pulumi/pulumi");
const provider = require("./provider");

class Thing extends pulumi.dynamic.Resource {
    constructor(name, args, opts) {
        const outputs = {
            token: undefined,
            digest: undefined,
            greeting: undefined,
            createdAt: undefined,
            expiresAt: undefined,
        };
        const secretOutputs = { additionalSecretOutputs: ["token"] };
        super(provider, name, { ...outputs, ...args }, pulumi.mergeOptions(opts, secretOutputs), "fixture", "Thing");
    }
}

module.exports = { Thing };
