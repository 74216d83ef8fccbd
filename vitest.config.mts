import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/stack/globalSetup.ts"],
        pool: "forks",
        testTimeout: 60_000,
        hookTimeout: 60_000,
        // Names come from test/stack/names.ts, so files can share the stack and run in parallel.
        fileParallelism: true,
        // Most of the suite waits on Pebble, BIND and deliberate backoff rather than computing: two files at a time.
        maxWorkers: 2,
    },
});
