// The service emulators on their own: Route53 naming and quoting, getZone, the Kubernetes API's Secret rules and
// the HTTP-01 solver ConfigMap served for real, ACM's import validation.
import * as http from "node:http";
import { describe, expect, inject, it } from "vitest";
import { uniqueName } from "../stack/names";
import { HTTP01_SOLVER_LABEL, ServiceEmulators, type ServicesConfig } from "./services";
import { recordFqdn, txtPresentation } from "./services/route53";
import { issueTestCertificate } from "./test-certificates";

const stack = inject("stack");
const services: ServicesConfig = {
    bind: stack.bind,
    http01: stack.http01,
    hostedZones: { Z0EXAMPLETEST: "example.test" },
};
const emulators = new ServiceEmulators(services);
const context = { services };

describe("Route53", () => {
    it("quotes TXT values once, as the AWS provider does", () => {
        expect(txtPresentation("abc")).toBe('"abc"');
        // Quoted again, as the AWS provider does: a program must never quote values itself.
        expect(txtPresentation('"abc"')).toBe('""abc""');
    });

    it("accepts names relative to the zone or absolute", () => {
        expect(recordFqdn("www", "example.test")).toBe("www.example.test");
        expect(recordFqdn("WWW.example.test.", "example.test")).toBe("www.example.test");
        expect(recordFqdn("example.test", "example.test")).toBe("example.test");
    });

    it("answers getZone from the hosted-zone table, and names the table when a zone is unknown", () => {
        expect(emulators.invoke("aws:route53/getZone:getZone", { name: "example.test." })).toMatchObject({
            id: "Z0EXAMPLETEST",
            zoneId: "Z0EXAMPLETEST",
            name: "example.test",
        });
        expect(() => emulators.invoke("aws:route53/getZone:getZone", { name: "nowhere.test" })).toThrow(
            "NoSuchHostedZone: no hosted zone found with name nowhere.test; the services file's hostedZones has Z0EXAMPLETEST (example.test)",
        );
        expect(() => emulators.invoke("aws:index/getRegion:getRegion", {})).toThrow("emulates no data source");
    });
});

describe("Kubernetes", () => {
    const secretRequest = (inputs: Record<string, unknown>) => ({
        urn: "urn:pulumi:dev::p::kubernetes:core/v1:Secret::tls",
        type: "kubernetes:core/v1:Secret",
        name: "tls",
        inputs: { apiVersion: "v1", kind: "Secret", ...inputs } as never,
    });
    const kubernetes = emulators.emulatorFor("kubernetes:core/v1:Secret");

    it("folds stringData into base64 data and names the object namespace/name", async () => {
        const created = await kubernetes.create(
            secretRequest({
                metadata: { name: "tls", namespace: "apps" },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": "cert", "tls.key": "key" },
            }),
            context,
        );
        expect(created.id).toBe("apps/tls");
        expect(created.outputs.data).toEqual({ "tls.crt": "Y2VydA==", "tls.key": "a2V5" });
        expect(created.outputs.stringData).toBeUndefined();
    });

    it("rejects a TLS Secret without tls.key, non-base64 data, and a missing namespace, as the API server would", async () => {
        await expect(
            kubernetes.create(
                secretRequest({
                    metadata: { name: "tls" },
                    type: "kubernetes.io/tls",
                    data: { "tls.crt": "not base64!" },
                }),
                context,
            ),
        ).rejects.toThrow(
            'Secret "tls" is invalid: [metadata.namespace: Required value (set it explicitly: the harness does not default it), ' +
                "data[tls.crt]: Invalid value: must be base64-encoded (use stringData for plain text), data[tls.key]: Required value]",
        );
    });

    it("serves a labelled solver ConfigMap through the stack's HTTP-01 responder, and stops on delete", async () => {
        const token = uniqueName("t", "token").replace(/\./g, "");
        const configMap = {
            urn: "urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::solver",
            type: "kubernetes:core/v1:ConfigMap",
            name: "solver",
            inputs: {
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: "solver", namespace: "default", labels: { [HTTP01_SOLVER_LABEL]: "true" } },
                data: { [token]: `${token}.thumbprint` },
            },
        };
        const emulator = emulators.emulatorFor(configMap.type);
        const created = await emulator.create(configMap, context);
        expect(await challengeResponse(token)).toEqual({ status: 200, body: `${token}.thumbprint` });
        await emulator.delete({ urn: configMap.urn, id: created.id, outputs: created.outputs }, context);
        // pebble-challtestsrv answers unknown tokens with an empty body.
        expect((await challengeResponse(token)).body).toBe("");
    });
});

describe("ACM import", () => {
    const request = (inputs: Record<string, string>) => ({
        urn: "urn:pulumi:dev::p::aws:acm/certificate:Certificate::imported",
        type: "aws:acm/certificate:Certificate",
        name: "imported",
        inputs,
    });
    const acm = emulators.emulatorFor("aws:acm/certificate:Certificate");

    it("imports a matching certificate, chain and key, and keeps the ARN on re-import", async () => {
        const certificate = await issueTestCertificate("acm.example.test");
        const inputs = {
            certificateBody: certificate.certificatePem,
            certificateChain: certificate.chainPem,
            privateKey: certificate.privateKeyPem,
        };
        const created = await acm.create(request(inputs), context);
        expect(created.outputs).toMatchObject({ arn: created.id, domainName: "acm.example.test", status: "ISSUED" });
        const renewed = await issueTestCertificate("acm.example.test");
        const reimported = await acm.update(
            { urn: request(inputs).urn, id: created.id, outputs: created.outputs },
            request({
                certificateBody: renewed.certificatePem,
                certificateChain: renewed.chainPem,
                privateKey: renewed.privateKeyPem,
            }),
            context,
        );
        expect(reimported.arn).toBe(created.id);
    });

    it("rejects a chain that did not issue the certificate, and a body with two certificates", async () => {
        const certificate = await issueTestCertificate("acm.example.test");
        const stranger = await issueTestCertificate("other.example.test");
        const base = { certificateBody: certificate.certificatePem, privateKey: certificate.privateKeyPem };
        await expect(acm.create(request({ ...base, certificateChain: stranger.chainPem }), context)).rejects.toThrow(
            "Could not validate the certificate with the certificate chain",
        );
        await expect(
            acm.create(
                request({ ...base, certificateBody: certificate.certificatePem + certificate.chainPem }),
                context,
            ),
        ).rejects.toThrow("certificateBody must hold exactly one PEM certificate, it holds 2");
    });
});

function challengeResponse(token: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const url = `http://127.0.0.1:${stack.http01.port}/.well-known/acme-challenge/${token}`;
        http.get(url, (response) => {
            let body = "";
            response.on("data", (chunk) => {
                body += chunk;
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        }).on("error", reject);
    });
}
