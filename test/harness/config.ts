// Stack configuration: what `Pulumi.<stack>.yaml` holds, given to a run as JSON. The program sees it through
// PULUMI_CONFIG (as the language host sets it); the dynamic provider gets all of it with Configure.
import { type PropertyMap, secret } from "./values";

/**
 * The config file's shape: `{"acme:directoryUrl": "https://…", "acme:eabHmacKey": {"secure": "…"}}`. Keys without
 * a namespace belong to the project. Non-string values are stored as JSON text, as `pulumi config set --path`
 * and structured config are. `secure` values are plaintext here (the harness encrypts nothing it is given).
 */
export type ConfigFile = Record<string, unknown>;

export interface ConfigEntry {
    /** Always namespaced: `<namespace>:<name>`. */
    key: string;
    value: string;
    secret: boolean;
}

export function parseConfig(file: ConfigFile, project: string): ConfigEntry[] {
    return Object.entries(file).map(([rawKey, raw]) => {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        if (raw !== null && typeof raw === "object" && "secure" in raw) {
            const secure = (raw as { secure: unknown }).secure;
            if (typeof secure !== "string") throw new Error(`config ${rawKey}: "secure" must be a string`);
            return { key, value: secure, secret: true };
        }
        return { key, value: typeof raw === "string" ? raw : JSON.stringify(raw), secret: false };
    });
}

/** The environment the Node.js language host gives a program for its config. */
export function programConfigEnvironment(entries: readonly ConfigEntry[]): Record<string, string> {
    return {
        PULUMI_CONFIG: JSON.stringify(Object.fromEntries(entries.map((e) => [e.key, e.value]))),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(entries.filter((e) => e.secret).map((e) => e.key)),
    };
}

/** The Configure arguments the engine sends the dynamic provider: the whole stack config, secrets wrapped. */
export function providerConfig(entries: readonly ConfigEntry[]): PropertyMap {
    return Object.fromEntries(entries.map((e) => [e.key, e.secret ? secret(e.value) : e.value]));
}
