import * as crypto from "node:crypto";

/** A name of its own for each test, so test files can run in parallel against one stack. */
export function uniqueName(zone = "example.test", prefix = "t"): string {
    return `${prefix}${crypto.randomBytes(5).toString("hex")}.${zone}`;
}
