// ACM certificate import (`aws:acm/certificate:Certificate` with certificateBody, certificateChain, privateKey),
// validated the way ACM's ImportCertificate validates: one certificate in the body, the chain issuing it, the key
// matching it. Re-importing into an existing certificate keeps its ARN; only a create gets a fresh one.
import * as crypto from "node:crypto";
import type { PropertyMap } from "../values";
import type { EmulatorRequest, ExistingResource, ResourceEmulator } from "./types";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

export class AcmEmulator implements ResourceEmulator {
    async create(request: EmulatorRequest): Promise<{ id: string; outputs: PropertyMap }> {
        const arn = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${crypto.randomUUID()}`;
        return { id: arn, outputs: imported(request, arn, "importing") };
    }

    async update(existing: ExistingResource, request: EmulatorRequest): Promise<PropertyMap> {
        return imported(request, existing.id, "re-importing");
    }

    async delete(): Promise<void> {}
}

function imported(request: EmulatorRequest, arn: string, action: string): PropertyMap {
    const fail = (problem: string): never => {
        throw new Error(`${action} ACM Certificate (${request.name}): ValidationException: ${problem}`);
    };
    const { certificateBody, certificateChain, privateKey } = request.inputs;
    if (typeof certificateBody !== "string" || typeof privateKey !== "string") {
        return fail(
            "the harness emulates certificate import only: certificateBody and privateKey are required " +
                "(requested certificates need validation that is not emulated)",
        );
    }
    const bodies = certificateBody.match(PEM_CERTIFICATE) ?? [];
    if (bodies.length !== 1) {
        return fail(`certificateBody must hold exactly one PEM certificate, it holds ${bodies.length}`);
    }
    const leaf = parseCertificate(bodies[0]!, "certificateBody", fail);
    const chain = (typeof certificateChain === "string" ? (certificateChain.match(PEM_CERTIFICATE) ?? []) : []).map(
        (pem, index) => parseCertificate(pem, `certificateChain[${index}]`, fail),
    );
    if (chain.some((certificate) => certificate.fingerprint256 === leaf.fingerprint256)) {
        fail("certificateChain must hold the intermediates only, not the certificate itself");
    }
    [leaf, ...chain].forEach((certificate, index) => {
        const issuer = chain[index];
        if (issuer && !(certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey))) {
            fail(
                `Could not validate the certificate with the certificate chain (link ${index} is not issued by the next)`,
            );
        }
    });
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey(privateKey);
    } catch {
        return fail("The private key is not a valid PEM private key");
    }
    if (!leaf.checkPrivateKey(key)) fail("The private key does not match the public key of certificateBody");
    return {
        ...request.inputs,
        arn,
        domainName: leaf.subject.match(/CN=([^\n,]+)/)?.[1] ?? "",
        notBefore: new Date(leaf.validFrom).toISOString(),
        notAfter: new Date(leaf.validTo).toISOString(),
        status: "ISSUED",
        type: "IMPORTED",
    };
}

function parseCertificate(pem: string, field: string, fail: (problem: string) => never): crypto.X509Certificate {
    try {
        return new crypto.X509Certificate(pem);
    } catch {
        return fail(`${field} is not a valid PEM certificate`);
    }
}
