// KubernetesTlsSecret, LoadBalancerCertificate and KubernetesHttp01Solver under mocks: the resources they declare,
// the keys and values they write, what stays secret, and what they refuse.
import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { acmKeyProblem } from "../../provider/components/loadBalancerCertificate";
import { acme, capture, isSecret, plain } from "./helpers";

const certificate = {
    certificatePem: "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
    issuerPem: "-----BEGIN CERTIFICATE-----\nintermediate\n-----END CERTIFICATE-----\n",
    fullChainPem:
        "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nintermediate\n-----END CERTIFICATE-----\n",
    privateKeyPem: crypto
        .generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    dnsNames: ["example.com", "*.example.com"],
    notAfter: "2027-06-01T00:00:00.000Z",
    serialNumber: "0abc",
    issuerCommonName: "Pebble Intermediate CA",
};

describe("KubernetesTlsSecret", () => {
    it("writes a kubernetes.io/tls Secret: tls.crt = leaf + intermediates, tls.key secret, annotations describing it", async () => {
        const captured = await capture(() => {
            new acme.KubernetesTlsSecret("site-tls", {
                certificate,
                metadata: {
                    name: "site-tls",
                    namespace: "web",
                    labels: { app: "site" },
                    annotations: { team: "edge" },
                },
            });
        });
        const secret = captured.find("site-tls-secret", "kubernetes:core/v1:Secret");
        expect(secret.parent).toBe(captured.find("site-tls").urn);
        expect(plain(secret.inputs.type)).toBe("kubernetes.io/tls");
        // The Kubernetes SDK keeps all of stringData secret, tls.key with it.
        expect(isSecret(secret.inputs.stringData)).toBe(true);
        expect(plain(secret.inputs.stringData)).toEqual({
            "tls.crt": certificate.fullChainPem,
            "tls.key": certificate.privateKeyPem,
        });
        expect(plain(secret.inputs.metadata)).toMatchObject({
            name: "site-tls",
            namespace: "web",
            labels: { app: "site" },
            annotations: {
                "pulumi-acme-certs/alt-names": "example.com,*.example.com",
                "pulumi-acme-certs/not-after": certificate.notAfter,
                "pulumi-acme-certs/serial-number": "0abc",
                "pulumi-acme-certs/issuer": "Pebble Intermediate CA",
                team: "edge",
            },
        });
        // Renewal must update the Secret in place: nothing forces a delete first.
        expect(secret.deleteBeforeReplace).toBeUndefined();
    });

    it("adds ca.crt when asked", async () => {
        const captured = await capture(() => {
            new acme.KubernetesTlsSecret("tls", { certificate, metadata: { name: "tls" }, includeCaCertificate: true });
        });
        const data = plain(captured.find("tls-secret").inputs.stringData) as Record<string, string>;
        expect(data["ca.crt"]).toBe(certificate.issuerPem);
    });

    it("refuses a Secret without a name", async () => {
        await expect(
            capture(() => {
                new acme.KubernetesTlsSecret("tls", { certificate, metadata: {} as never });
            }),
        ).rejects.toThrow(/metadata\.name is required/);
    });
});

describe("LoadBalancerCertificate", () => {
    it("imports into ACM (body = leaf, chain = intermediates, key secret) and attaches to an existing listener", async () => {
        const captured = await capture(() => {
            new acme.LoadBalancerCertificate("site-alb", {
                certificate,
                listenerArn: "arn:aws:elasticloadbalancing:listener/1",
            });
        });
        const acm = captured.find("site-alb-acm", "aws:acm/certificate:Certificate");
        expect(plain(acm.inputs.certificateBody)).toBe(certificate.certificatePem);
        expect(plain(acm.inputs.certificateChain)).toBe(certificate.issuerPem);
        expect(isSecret(acm.inputs.privateKey)).toBe(true);
        const attachment = captured.find("site-alb-attachment", "aws:lb/listenerCertificate:ListenerCertificate");
        expect(plain(attachment.inputs.listenerArn)).toBe("arn:aws:elasticloadbalancing:listener/1");
        expect(attachment.dependencies).toContain(acm.urn);
        expect(() => captured.find("site-alb-listener")).toThrow();
    });

    it("or creates an HTTPS listener forwarding to the target group, with a TLS 1.3 policy by default", async () => {
        const captured = await capture(() => {
            new acme.LoadBalancerCertificate("site-alb", {
                certificate,
                loadBalancerArn: "arn:lb",
                defaultTargetGroupArn: "arn:tg",
            });
        });
        const listener = captured.find("site-alb-listener", "aws:lb/listener:Listener");
        expect(plain(listener.inputs)).toMatchObject({
            loadBalancerArn: "arn:lb",
            port: 443,
            protocol: "HTTPS",
            sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
            defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }],
        });
    });

    it.each([
        ["neither a listener nor a load balancer", {}, /either listenerArn .* or loadBalancerArn/],
        ["both", { listenerArn: "arn:l", loadBalancerArn: "arn:lb" }, /either listenerArn .* or loadBalancerArn/],
        ["a new listener without a target group", { loadBalancerArn: "arn:lb" }, /needs defaultTargetGroupArn/],
    ])("refuses %s", async (_case, args, message) => {
        await expect(
            capture(() => {
                new acme.LoadBalancerCertificate("alb", { certificate, ...(args as object) });
            }),
        ).rejects.toThrow(message);
    });

    it.each([
        [
            "an Ed25519 key",
            crypto.generateKeyPairSync("ed25519").privateKey,
            /ACM cannot import this ed25519 key: use an ECDSA P256\/P384 or RSA 2048–4096 key/,
        ],
        [
            "an RSA key of 1536 bits",
            crypto.generateKeyPairSync("rsa", { modulusLength: 1536 }).privateKey,
            /ACM cannot import this rsa key of 1536 bits/,
        ],
        ["a P-256 key", crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, undefined],
        ["an RSA 2048 key", crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, undefined],
    ])("tells whether ACM can import %s", (_case, key, problem) => {
        const pem = key.export({ type: "pkcs8", format: "pem" }) as string;
        const found = acmKeyProblem(pem);
        if (problem === undefined) expect(found).toBeUndefined();
        else expect(found).toMatch(problem);
    });
});

describe("KubernetesHttp01Solver", () => {
    it("serves the order's tokens: a labelled ConfigMap, a web server rolled on new tokens, a Service and an Ingress per domain", async () => {
        const captured = await capture(() => {
            const order = new acme.Order("order", {
                account: {
                    directoryUrl: "https://acme.test/dir",
                    accountUrl: "https://acme.test/acct/1",
                    accountKeyPem: "k",
                },
                csrPem: "csr",
                dnsNames: ["example.com", "www.example.com"],
                challengeType: "http-01",
            });
            new acme.KubernetesHttp01Solver("solver", { order, namespace: "acme", ingressClassName: "nginx" });
        });
        const configMap = captured.find("solver-tokens", "kubernetes:core/v1:ConfigMap");
        expect(plain(configMap.inputs)).toMatchObject({
            metadata: { namespace: "acme", labels: { "pulumi-acme-certs/http01-solver": "solver" } },
            data: { token0: "token0.thumbprint", token1: "token1.thumbprint" },
        });
        const deployment = plain(captured.find("solver-server", "kubernetes:apps/v1:Deployment").inputs) as {
            spec: { template: { metadata: { annotations: Record<string, string> } } };
        };
        expect(deployment.spec.template.metadata.annotations["pulumi-acme-certs/tokens-sha256"]).toMatch(
            /^[0-9a-f]{64}$/,
        );
        const ingress = plain(captured.find("solver-ingress", "kubernetes:networking.k8s.io/v1:Ingress").inputs) as {
            spec: {
                ingressClassName: string;
                rules: Array<{ host: string; http: { paths: Array<{ path: string }> } }>;
            };
        };
        expect(ingress.spec.ingressClassName).toBe("nginx");
        expect(ingress.spec.rules.map((rule) => [rule.host, rule.http.paths[0]!.path])).toEqual([
            ["example.com", "/.well-known/acme-challenge/"],
            ["www.example.com", "/.well-known/acme-challenge/"],
        ]);
        expect(() => captured.find("solver-service", "kubernetes:core/v1:Service")).not.toThrow();
    });
});
