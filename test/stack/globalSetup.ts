// vitest globalSetup: one test stack for the whole run, its addresses provided to every test file.
import type { TestProject } from "vitest/node";
import { startTestStack, type TestStackInfo } from "./index";

declare module "vitest" {
    export interface ProvidedContext {
        stack: TestStackInfo;
    }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
    const stack = await startTestStack({ pebble: { validitySeconds: 90 * 86400 } });
    const { dir, bind, pebble, http01 } = stack;
    project.provide("stack", { dir, bind, pebble, http01 });
    return () => stack.stop();
}
