// Challenge answers against the RFCs, computed independently of acme-client: the key authorization is
// `token "." base64url(JWK thumbprint)` (RFC 8555 §8.1, thumbprint per RFC 7638), the HTTP-01 body is that string
// (§8.3), and the DNS-01 TXT value is base64url(SHA-256(key authorization)) (§8.4).
import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { accountClient } from "../../provider/acme/client";

/** RFC 7638 §3: SHA-256 over the required members of the JWK, lexicographically ordered, no whitespace. */
function thumbprint(jwk: Record<string, string>): string {
    const required = jwk.kty === "EC" ? ["crv", "kty", "x", "y"] : ["e", "kty", "n"];
    const canonical = `{${required.map((member) => `"${member}":"${jwk[member]}"`).join(",")}}`;
    return crypto.createHash("sha256").update(canonical).digest("base64url");
}

describe("the thumbprint used for the checks below", () => {
    it("reproduces RFC 7638 §3.1's example", () => {
        const example = {
            kty: "RSA",
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            e: "AQAB",
            alg: "RS256",
            kid: "2011-04-29",
        };
        expect(thumbprint(example)).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    });
});

describe.each([
    ["an ECDSA P-256", () => crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey],
    ["an ECDSA P-384", () => crypto.generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey],
    ["an RSA 2048", () => crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey],
])("challenge answers for %s account key", (_kind, makeKey) => {
    const key = makeKey();
    const client = accountClient({
        directoryUrl: "https://acme.invalid/directory", // constructing a client makes no request
        accountKeyPem: key.export({ type: "pkcs8", format: "pem" }) as string,
    });
    const jwk = crypto.createPublicKey(key).export({ format: "jwk" }) as Record<string, string>;
    const token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"; // RFC 8555 §8.3's example token

    it("the key authorization is the token, a dot and the account key's thumbprint", () => {
        expect(client.keyAuthorization(token)).toBe(`${token}.${thumbprint(jwk)}`);
    });

    it("the DNS-01 TXT value is base64url(SHA-256(key authorization))", () => {
        const expected = crypto
            .createHash("sha256")
            .update(`${token}.${thumbprint(jwk)}`)
            .digest("base64url");
        expect(client.dns01TxtValue(token)).toBe(expected);
        expect(client.dns01TxtValue(token)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
});
