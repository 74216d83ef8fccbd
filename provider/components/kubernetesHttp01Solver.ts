// HTTP-01 answered from the cluster, in the manner of cert-manager's ingress solver: the tokens in a ConfigMap, a
// small web server that serves them, a Service and an Ingress routing /.well-known/acme-challenge/ to it.
import * as crypto from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { HttpChallenge } from "../resources/order";
import { kubernetesSdk } from "./peers";

/** Marks the ConfigMap that holds the tokens (token → key authorization). */
export const HTTP01_SOLVER_LABEL = "pulumi-acme-certs/http01-solver";
const WEB_ROOT = "/usr/share/nginx/html";
const CHALLENGE_PATH = "/.well-known/acme-challenge/";

export interface KubernetesHttp01SolverArgs {
    /** The Order whose `httpChallenges` to serve. */
    order: { httpChallenges: pulumi.Input<HttpChallenge[]> };
    /** Where the solver runs; it must exist. */
    namespace: pulumi.Input<string>;
    /** The Ingress class that routes the names' port 80 traffic. */
    ingressClassName?: pulumi.Input<string>;
    /** An unprivileged static web server listening on 8080. @default "nginxinc/nginx-unprivileged:1.27-alpine" */
    image?: pulumi.Input<string>;
}

/**
 * Serves every `httpChallenges` token of an Order at `http://<domain>/.well-known/acme-challenge/<token>`. Make the
 * Certificate depend on it (`dependsOn: [solver]`): the Kubernetes provider waits for the Deployment's rollout and
 * the Ingress before the Certificate asks the CA to validate. New tokens (a renewal) restart the web server, so it
 * never serves stale files while the kubelet refreshes the ConfigMap volume.
 */
export class KubernetesHttp01Solver extends pulumi.ComponentResource {
    readonly configMap: k8s.core.v1.ConfigMap;
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
    readonly ingress: k8s.networking.v1.Ingress;

    constructor(name: string, args: KubernetesHttp01SolverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pulumi-acme-certs:index:KubernetesHttp01Solver", name, {}, opts);
        const sdk = kubernetesSdk("KubernetesHttp01Solver");
        const parent = { parent: this };
        const challenges = pulumi.output(args.order.httpChallenges);
        const tokens = challenges.apply((list) => Object.fromEntries(list.map((c) => [c.token, c.keyAuthorization])));
        const appLabels = { "app.kubernetes.io/name": "acme-http01-solver", "app.kubernetes.io/instance": name };

        this.configMap = new sdk.core.v1.ConfigMap(
            `${name}-tokens`,
            {
                metadata: { namespace: args.namespace, labels: { ...appLabels, [HTTP01_SOLVER_LABEL]: name } },
                data: tokens,
            },
            parent,
        );
        this.deployment = new sdk.apps.v1.Deployment(
            `${name}-server`,
            {
                metadata: { namespace: args.namespace, labels: appLabels },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: appLabels },
                    template: {
                        metadata: {
                            labels: appLabels,
                            // A new set of tokens rolls the pod instead of waiting for the kubelet's volume sync.
                            annotations: { "pulumi-acme-certs/tokens-sha256": tokens.apply(sha256Of) },
                        },
                        spec: {
                            securityContext: { runAsNonRoot: true },
                            containers: [
                                {
                                    name: "server",
                                    image: args.image ?? "nginxinc/nginx-unprivileged:1.27-alpine",
                                    ports: [{ name: "http", containerPort: 8080 }],
                                    readinessProbe: { tcpSocket: { port: "http" } },
                                    volumeMounts: [
                                        { name: "tokens", mountPath: `${WEB_ROOT}${CHALLENGE_PATH}`, readOnly: true },
                                    ],
                                },
                            ],
                            volumes: [{ name: "tokens", configMap: { name: this.configMap.metadata.name } }],
                        },
                    },
                },
            },
            parent,
        );
        this.service = new sdk.core.v1.Service(
            `${name}-service`,
            {
                metadata: { namespace: args.namespace, labels: appLabels },
                spec: { selector: appLabels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
            },
            parent,
        );
        this.ingress = new sdk.networking.v1.Ingress(
            `${name}-ingress`,
            {
                metadata: { namespace: args.namespace, labels: appLabels },
                spec: {
                    ingressClassName: args.ingressClassName,
                    rules: challenges.apply((list) =>
                        [...new Set(list.map((c) => c.domain))].map((host) => ({
                            host,
                            http: {
                                paths: [
                                    {
                                        path: CHALLENGE_PATH,
                                        pathType: "Prefix",
                                        backend: {
                                            service: { name: this.service.metadata.name, port: { name: "http" } },
                                        },
                                    },
                                ],
                            },
                        })),
                    ),
                },
            },
            { parent: this, dependsOn: [this.deployment] },
        );
        this.registerOutputs({});
    }
}

function sha256Of(tokens: Record<string, string>): string {
    return crypto.createHash("sha256").update(JSON.stringify(tokens)).digest("hex");
}
