import { describe, expect, it } from "vitest";
import { memoizeByText, memoizeByTextAsync } from "../../provider/crypto/memo";

/** A parse that counts its calls. */
function counted<T>(parse: (text: string) => T) {
    const calls: string[] = [];
    return {
        calls,
        parse: (text: string) => {
            calls.push(text);
            return parse(text);
        },
    };
}

describe("memoizeByText", () => {
    it("parses each text once and gives every caller the same result", () => {
        const { calls, parse } = counted((text) => ({ length: text.length }));
        const memoized = memoizeByText(parse);
        expect(memoized("abc")).toBe(memoized("abc"));
        expect(memoized("de")).toEqual({ length: 2 });
        expect(calls).toEqual(["abc", "de"]);
    });

    it("keeps at most `capacity` results, forgetting the least recently used", () => {
        const { calls, parse } = counted((text) => ({ text }));
        const memoized = memoizeByText(parse, 2);
        memoized("a");
        memoized("b");
        memoized("a");
        // "b" is now the least recently used: "c" pushes it out, "a" stays.
        memoized("c");
        memoized("a");
        memoized("b");
        expect(calls).toEqual(["a", "b", "c", "b"]);
    });

    it("freezes results all the way down, so no caller can change what the next one gets", () => {
        const memoized = memoizeByText(() => ({ key: { names: ["a.example.test"] } }));
        const result = memoized("x");
        expect(() => result.key.names.push("b.example.test")).toThrow(TypeError);
        expect(memoized("x").key.names).toEqual(["a.example.test"]);
    });

    it("does not remember a parse that threw", () => {
        let fail = true;
        const memoized = memoizeByText((text) => {
            if (fail) throw new Error("unreadable");
            return { text };
        });
        expect(() => memoized("x")).toThrow("unreadable");
        fail = false;
        expect(memoized("x")).toEqual({ text: "x" });
    });
});

describe("memoizeByTextAsync", () => {
    it("gives concurrent callers one parse", async () => {
        const { calls, parse } = counted(async (text) => ({ text }));
        const memoized = memoizeByTextAsync(parse);
        const [first, second] = await Promise.all([memoized("a"), memoized("a")]);
        expect(first).toBe(second);
        expect(Object.isFrozen(first)).toBe(true);
        expect(calls).toEqual(["a"]);
    });

    it("forgets a rejected parse, so the next caller parses again", async () => {
        let fail = true;
        const memoized = memoizeByTextAsync(async (text) => {
            if (fail) throw new Error("unreadable");
            return { text };
        });
        await expect(memoized("x")).rejects.toThrow("unreadable");
        fail = false;
        expect(await memoized("x")).toEqual({ text: "x" });
    });
});
