// Remembering the results of pure parses by their input text. A certificate's key, CSR and CA bundle are parsed
// again at every step that handles them (Check and Create of several resources, the account client), and a parse
// costs far more than a lookup. A long-lived provider host serves many resources, so the memory is bounded.

/** How many results each memoized function keeps: enough for the parses of a few hundred certificates in flight. */
const DEFAULT_CAPACITY = 500;

/** A Map that forgets its least recently used entry beyond `capacity` entries. */
class BoundedCache<T> {
    // A Map iterates in insertion order, so re-inserting an entry on use keeps the least recently used one first.
    private readonly entries = new Map<string, T>();

    constructor(private readonly capacity = DEFAULT_CAPACITY) {}

    get(key: string): T | undefined {
        if (!this.entries.has(key)) return undefined;
        const value = this.entries.get(key)!;
        this.entries.delete(key);
        this.entries.set(key, value);
        return value;
    }

    set(key: string, value: T): void {
        this.entries.delete(key);
        this.entries.set(key, value);
        if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }

    delete(key: string): void {
        this.entries.delete(key);
    }
}

/**
 * `parse`, remembering its results by input text. Only for pure functions: results are frozen, so a caller that
 * tries to change one fails loudly instead of changing what the next caller gets. A parse that throws is not
 * remembered.
 */
export function memoizeByText<T extends object | string>(
    parse: (text: string) => T,
    capacity?: number,
): (text: string) => T {
    const cache = new BoundedCache<T>(capacity);
    return (text) => {
        let result = cache.get(text);
        if (result === undefined) {
            result = deepFreeze(parse(text));
            cache.set(text, result);
        }
        return result;
    };
}

/** memoizeByText for an async parse: concurrent callers share one promise; a rejected one is forgotten. */
export function memoizeByTextAsync<T>(
    parse: (text: string) => Promise<T>,
    capacity?: number,
): (text: string) => Promise<T> {
    const cache = new BoundedCache<Promise<T>>(capacity);
    return (text) => {
        let result = cache.get(text);
        if (result === undefined) {
            const parsed = parse(text).then(deepFreeze);
            parsed.catch(() => {
                if (cache.get(text) === parsed) cache.delete(text);
            });
            cache.set(text, parsed);
            result = parsed;
        }
        return result;
    };
}

/** Freezes plain objects and arrays all the way down; other objects (a KeyObject) are left as they are. */
function deepFreeze<T>(value: T): T {
    const plain =
        Array.isArray(value) ||
        (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype);
    if (plain && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const member of Object.values(value as object)) deepFreeze(member);
    }
    return value;
}
