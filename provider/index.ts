// pulumi-acme-certs: ACME (Let's Encrypt) certificates as Pulumi resources.
export { directories } from "./acme/directories";
export { KubernetesHttp01Solver, type KubernetesHttp01SolverArgs } from "./components/kubernetesHttp01Solver";
export {
    KubernetesTlsSecret,
    type KubernetesTlsSecretArgs,
    type TlsCertificateSource,
} from "./components/kubernetesTlsSecret";
export {
    LoadBalancerCertificate,
    type LoadBalancerCertificateArgs,
    type LoadBalancerCertificateSource,
} from "./components/loadBalancerCertificate";
export {
    type KeyAlgorithmName,
    Route53Certificate,
    type Route53CertificateArgs,
} from "./components/route53Certificate";
export { Route53ChallengeRecords, type Route53ChallengeRecordsArgs } from "./components/route53ChallengeRecords";
export type { EcdsaCurve, KeyAlgorithm, RsaBits } from "./crypto/keys";
export type { DnsChallengeRecord } from "./dns01/names";
export {
    type CertificateStatus,
    type ExpiryReport,
    type ExpiryReportOptions,
    type ExpiryStatus,
    expiryReport,
} from "./expiry/report";
export { checkServed, type ServedCheckOptions, type ServedResult, type ServedStatus } from "./expiry/served";
export type { AcmeAccountArgs } from "./resources/account";
export {
    Certificate,
    type CertificateArgs,
    type PropagationArgs,
} from "./resources/certificate";
export { CertificateRequest, type CertificateRequestArgs } from "./resources/certificateRequest";
export {
    type ChallengeType,
    type HttpChallenge,
    Order,
    type OrderArgs,
    type OrderAuthorization,
    type OrderReference,
} from "./resources/order";
export { PrivateKey, type PrivateKeyArgs } from "./resources/privateKey";
export { type ExternalAccountBinding, Registration, type RegistrationArgs } from "./resources/registration";
