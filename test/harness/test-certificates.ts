// Certificates for the harness's tests: a leaf issued by an intermediate issued by a root, all made on the spot.
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export interface TestCertificate {
    /** The leaf only (ACM's certificateBody). */
    certificatePem: string;
    /** The intermediate (ACM's certificateChain). */
    chainPem: string;
    privateKeyPem: string;
}

/** A certificate for `commonName` with its chain and key; `otherKeyPem` is a key that does NOT match it. */
export async function issueTestCertificate(commonName: string): Promise<TestCertificate & { otherKeyPem: string }> {
    const root = await certificateAuthority("CN=Harness Test Root");
    const intermediate = await certificateAuthority("CN=Harness Test Intermediate", root);
    const leafKeys = await generateKeys();
    const leaf = await x509.X509CertificateGenerator.create(
        {
            ...validity(),
            subject: `CN=${commonName}`,
            issuer: intermediate.certificate.subject,
            publicKey: leafKeys.publicKey,
            signingKey: intermediate.keys.privateKey,
            signingAlgorithm: ALGORITHM,
            extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: commonName }])],
        },
        crypto.webcrypto,
    );
    return {
        certificatePem: leaf.toString("pem"),
        chainPem: intermediate.certificate.toString("pem"),
        privateKeyPem: await privateKeyPem(leafKeys),
        otherKeyPem: await privateKeyPem(await generateKeys()),
    };
}

interface Authority {
    certificate: x509.X509Certificate;
    keys: crypto.webcrypto.CryptoKeyPair;
}

async function certificateAuthority(subject: string, issuer?: Authority): Promise<Authority> {
    const keys = await generateKeys();
    const certificate = await x509.X509CertificateGenerator.create(
        {
            ...validity(),
            subject,
            issuer: issuer?.certificate.subject ?? subject,
            publicKey: keys.publicKey,
            signingKey: issuer?.keys.privateKey ?? keys.privateKey,
            signingAlgorithm: ALGORITHM,
            extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
        },
        crypto.webcrypto,
    );
    return { certificate, keys };
}

function validity() {
    const now = Date.now();
    return {
        serialNumber: crypto.randomBytes(8).toString("hex"),
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 30 * 86400_000),
    };
}

function generateKeys(): Promise<crypto.webcrypto.CryptoKeyPair> {
    return crypto.webcrypto.subtle.generateKey(ALGORITHM, true, [
        "sign",
        "verify",
    ]) as Promise<crypto.webcrypto.CryptoKeyPair>;
}

async function privateKeyPem(keys: crypto.webcrypto.CryptoKeyPair): Promise<string> {
    const pkcs8 = await crypto.webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    const key = crypto.createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
    return key.export({ format: "pem", type: "pkcs8" }) as string;
}
