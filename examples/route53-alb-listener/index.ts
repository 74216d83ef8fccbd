// A certificate from Let's Encrypt (or any ACME CA) for the configured names, validated with DNS-01 through TXT
// records in a Route53 hosted zone, imported into ACM and served by an Application Load Balancer: attached to an
// existing HTTPS listener (`listenerArn`), or as the default certificate of a new HTTPS listener
// (`loadBalancerArn` + `targetGroupArn`). Renewals re-import into the same ACM ARN, so the listener never changes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as acme from "pulumi-acme-certs";

const config = new pulumi.Config();
const domains = config.requireObject<string[]>("domains");
const listenerArn = config.get("listenerArn");

const accountKey = new acme.PrivateKey("account-key");
const account = new acme.Registration("account", {
    accountKeyPem: accountKey.privateKeyPem,
    termsOfServiceAgreed: true,
});

const zone = aws.route53.getZoneOutput({ name: config.require("zone") });
const site = new acme.Route53Certificate("site", {
    account,
    domains,
    hostedZoneId: zone.zoneId,
    renewBefore: config.get("renewBefore"),
    // Only for split-horizon DNS or a test stack: by default the zone's authoritative nameservers are asked.
    propagation: config.getObject<acme.PropagationArgs>("propagation"),
});

const served = new acme.LoadBalancerCertificate("site-lb", {
    certificate: site,
    ...(listenerArn !== undefined
        ? { listenerArn }
        : {
              loadBalancerArn: config.require("loadBalancerArn"),
              defaultTargetGroupArn: config.require("targetGroupArn"),
          }),
    tags: { "managed-by": "pulumi-acme-certs" },
});

export const dnsNames = site.dnsNames;
export const issuer = site.issuerCommonName;
export const serialNumber = site.serialNumber;
export const notAfter = site.notAfter;
export const renewAt = site.renewAt;
export const certificateArn = served.certificateArn;
export const httpsListenerArn = served.listener?.arn ?? listenerArn;
