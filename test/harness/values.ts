// Property values as the Pulumi engine puts them on the wire: secrets are wrapped in a signature object, unknown
// values (preview) are a sentinel string. Everything here is plain JSON, so values survive files and processes.

/** A JSON value, the only kind of value that crosses the gRPC property maps. */
export type PropertyValue = null | boolean | number | string | PropertyValue[] | { [key: string]: PropertyValue };

/** A resource's inputs or outputs. */
export type PropertyMap = Record<string, PropertyValue>;

/** The engine's encoding of a value that is not known yet (only during previews). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The key that marks an object as a special value (secret, asset, resource reference). */
export const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";

/** The signature of a secret: `{[SIGNATURE_KEY]: SECRET_SIGNATURE, value}`. */
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

const RESOURCE_REFERENCE_SIGNATURE = "5cf8f73096256a8f31e491e813e4eb8e";

/** A secret in wire form. */
export interface SecretValue {
    [SIGNATURE_KEY]: typeof SECRET_SIGNATURE;
    value: PropertyValue;
}

export function secret(value: PropertyValue): PropertyValue {
    return { [SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

export function isObject(value: unknown): value is { [key: string]: PropertyValue } {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function isSecret(value: unknown): value is SecretValue {
    return isObject(value) && value[SIGNATURE_KEY] === SECRET_SIGNATURE && "value" in value;
}

export function containsSecrets(value: unknown): boolean {
    if (isSecret(value)) return true;
    if (Array.isArray(value)) return value.some(containsSecrets);
    return isObject(value) && Object.values(value).some(containsSecrets);
}

export function containsUnknowns(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (Array.isArray(value)) return value.some(containsUnknowns);
    return isObject(value) && Object.values(value).some(containsUnknowns);
}

/** Applies `transform` to every value of the tree, bottom-up (objects and arrays are copied). */
export function mapValues(value: PropertyValue, transform: (value: PropertyValue) => PropertyValue): PropertyValue {
    if (Array.isArray(value)) return transform(value.map((element) => mapValues(element, transform)));
    if (isObject(value)) {
        return transform(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapValues(v, transform)])));
    }
    return transform(value);
}

export function mapProperties(map: PropertyMap, transform: (value: PropertyValue) => PropertyValue): PropertyMap {
    return mapValues(map, transform) as PropertyMap;
}

/**
 * Plaintext of every secret. The dynamic-provider host answers Configure with `acceptSecrets=false`, so the engine
 * sends it (and every other provider we emulate) plaintext.
 */
export function stripSecrets(map: PropertyMap): PropertyMap {
    return mapProperties(map, (value) => (isSecret(value) ? value.value : value));
}

/**
 * Marks an output secret when the input of the same name was (or contained) a secret, recursing into objects.
 * This is what the engine does to every provider result (`annotateSecrets` in provider_plugin.go), so a secret
 * input stays secret in state after a plaintext round trip through the provider.
 */
export function annotateSecrets(outputs: PropertyMap, inputs: PropertyMap): PropertyMap {
    const result: PropertyMap = { ...outputs };
    for (const [key, input] of Object.entries(inputs)) {
        if (!(key in result)) continue;
        const output = result[key]!;
        if (isObject(output) && isObject(input) && !isSecret(output) && !isSecret(input)) {
            result[key] = annotateSecrets(output, input);
        } else if (!isSecret(output) && containsSecrets(input)) {
            result[key] = secret(output);
        }
    }
    return result;
}

/** Marks the named top-level outputs secret (the `additionalSecretOutputs` resource option). */
export function markSecretOutputs(outputs: PropertyMap, names: readonly string[]): PropertyMap {
    const result: PropertyMap = { ...outputs };
    for (const name of names) {
        if (name in result && !isSecret(result[name])) result[name] = secret(result[name]!);
    }
    return result;
}

/**
 * The engine hands providers that do not accept resource references (every provider here) the referenced
 * resource's id, or its URN when it has none.
 */
export function downgradeResourceReferences(map: PropertyMap): PropertyMap {
    return mapProperties(map, (value) => {
        if (!isObject(value) || value[SIGNATURE_KEY] !== RESOURCE_REFERENCE_SIGNATURE) return value;
        return typeof value.id === "string" ? (value.id === "" ? UNKNOWN : value.id) : (value.urn ?? null);
    });
}

/**
 * Converts inputs as `pulumi.runtime.setMocks` hands them to `newResource` (unknowns as `{__pulumiUnknown: true}`,
 * secrets as wire wrappers) into what the engine sends a provider: unknowns become the sentinel string.
 */
export function fromMockInputs(inputs: Record<string, unknown>): PropertyMap {
    const convert = (value: unknown): PropertyValue => {
        if (isObject(value) && (value as Record<string, unknown>).__pulumiUnknown === true) return UNKNOWN;
        if (Array.isArray(value)) return value.map(convert);
        if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
        return (value ?? null) as PropertyValue;
    };
    return convert(inputs) as PropertyMap;
}

/** Deep equality of two property values, secret marks included (the engine's `DeepEquals`). */
export function deepEqual(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
    return canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: PropertyValue | undefined): string {
    if (value === undefined) return "undefined";
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (isObject(value)) {
        const keys = Object.keys(value).sort();
        return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** The value at a dotted path such as `metadata.name`, or undefined. */
export function valueAt(map: PropertyMap, path: string): PropertyValue | undefined {
    let current: PropertyValue | undefined = map;
    for (const segment of path.split(".")) {
        if (isSecret(current)) current = current.value;
        if (!isObject(current)) return undefined;
        current = current[segment];
    }
    return current;
}
