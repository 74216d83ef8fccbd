// The main job: one certificate for the configured names from the configured ACME CA, validated with DNS-01
// through Route53 records of this stack, delivered into a Kubernetes TLS Secret or onto an AWS load balancer.
// A scheduled `pulumi up --refresh` keeps it renewed; the stack outputs say what was issued and where it went.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as acme from "pulumi-acme-certs";
import { type Delivery, readSettings, type Zones } from "./settings";

const settings = readSettings(new pulumi.Config());

// The CA comes from `acme:directoryUrl` (and, for a private or test CA, `acme:caCertificatesPem`).
const accountKey = new acme.PrivateKey("account-key");
const account = new acme.Registration("account", {
    accountKeyPem: accountKey.privateKeyPem,
    termsOfServiceAgreed: true,
});

const site = new acme.Route53Certificate("site", {
    account,
    domains: settings.domains,
    ...zoneArgs(settings.zones),
    delegations: settings.delegations,
    renewBefore: settings.renewBefore,
    keyAlgorithm: settings.keyAlgorithm,
    propagation: settings.propagation,
});

const delivered = deliver(site, settings.delivery);

export const dnsNames = site.dnsNames;
export const issuer = site.issuerCommonName;
export const serialNumber = site.serialNumber;
export const notBefore = site.notBefore;
export const notAfter = site.notAfter;
export const renewAt = site.renewAt;
export const delivery = delivered.delivery;
export const deliveredTo = delivered.deliveredTo;

function zoneArgs(zones: Zones): Pick<acme.Route53CertificateArgs, "hostedZoneId" | "hostedZones"> {
    if ("zone" in zones) return { hostedZoneId: aws.route53.getZoneOutput({ name: zones.zone }).zoneId };
    if ("hostedZoneId" in zones) return { hostedZoneId: zones.hostedZoneId };
    if ("hostedZones" in zones) return { hostedZones: zones.hostedZones };
    return {};
}

function deliver(certificate: acme.Route53Certificate, where: Delivery) {
    if (where.kind === "kubernetes-secret") {
        const tls = new acme.KubernetesTlsSecret("site-tls", {
            certificate,
            metadata: { name: where.secretName, namespace: where.namespace },
        });
        const { namespace, name } = tls.secret.metadata;
        return {
            delivery: { kind: where.kind, namespace, secretName: name },
            deliveredTo: pulumi.interpolate`Kubernetes Secret ${namespace}/${name}`,
        };
    }
    const served = new acme.LoadBalancerCertificate("site-lb", {
        certificate,
        ...("listenerArn" in where
            ? { listenerArn: where.listenerArn }
            : {
                  loadBalancerArn: where.loadBalancerArn,
                  defaultTargetGroupArn: where.targetGroupArn,
                  port: where.port,
              }),
        tags: { "managed-by": "pulumi-acme-certs" },
    });
    // The listener it was attached to, or the one it made.
    const listenerArn = "listenerArn" in where ? pulumi.output(where.listenerArn) : served.listener!.arn;
    return {
        delivery: { kind: where.kind, certificateArn: served.certificateArn, listenerArn },
        deliveredTo: pulumi.interpolate`ACM certificate ${served.certificateArn}, served by listener ${listenerArn}`,
    };
}
