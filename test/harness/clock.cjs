// Preloaded into the dynamic-provider host (NODE_OPTIONS=--require) to move its clock: Date.now() and `new Date()`
// without arguments run PULUMI_HARNESS_CLOCK_OFFSET_SECONDS ahead (or behind, when negative). This is how a test
// reaches a certificate's renewal window without waiting for it; the provider code is not touched.
"use strict";

const offsetMs = Number(process.env.PULUMI_HARNESS_CLOCK_OFFSET_SECONDS ?? "0") * 1000;

if (!Number.isFinite(offsetMs)) {
    throw new Error("PULUMI_HARNESS_CLOCK_OFFSET_SECONDS must be a number of seconds");
}

if (offsetMs !== 0) {
    const RealDate = Date;
    const realNow = RealDate.now;
    const now = () => realNow() + offsetMs;
    RealDate.now = now;
    globalThis.Date = new Proxy(RealDate, {
        construct(target, args, newTarget) {
            return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget);
        },
        // `Date()` called as a function returns the current time as a string.
        apply() {
            return new RealDate(now()).toString();
        },
    });
}
