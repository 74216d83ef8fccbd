// Keys for pure tests, made once per test file with node:crypto.
import * as crypto from "node:crypto";

function ecdsaKey() {
    return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

function fingerprint(key: crypto.KeyObject): string {
    const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
    return crypto.createHash("sha256").update(spki).digest("hex");
}

const site = ecdsaKey();
const account = ecdsaKey();

export const fixtureKeys = {
    site: site.export({ type: "pkcs8", format: "pem" }) as string,
    /** The same key as `site`, SEC1-encoded ("EC PRIVATE KEY"). */
    siteSec1: site.export({ type: "sec1", format: "pem" }) as string,
    siteFingerprint: fingerprint(site),
    account: account.export({ type: "pkcs8", format: "pem" }) as string,
    accountFingerprint: fingerprint(account),
};
