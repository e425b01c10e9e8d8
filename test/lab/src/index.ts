/**
 * The Steppe censorship lab: a simulated Internet on loopback (or in network
 * namespaces) that plays both the honest web and a censor acting by source
 * network. See test/lab/README.md.
 */
export { startLab, type Lab, type LabEndpoint, type LabOptions } from './lab.js';
export {
  LAB_NETWORKS, CONTROL_SOURCE, IN_COUNTRY_SOURCE, NetworkTable, type LabNetwork, type LabNetworkSpec,
} from './networks.js';
export {
  LAB_SITES, BLOCKPAGE_DOMAIN, CDN_CHALLENGE_DOMAIN, DOH_DOMAIN, NEWS_DOMAIN, normalizeDomain, type LabSite, type LabSiteSpec, type SiteRole,
} from './sites.js';
export {
  BEHAVIOUR_KINDS, BEHAVIOUR_STAGES, DEFAULT_INJECT_DELAY_MS, DEFAULT_THROTTLE_BPS, checkBehaviour,
  type Behaviour, type BehaviourKind, type Stage,
} from './behaviours.js';
export { Censor, type CensorRule, type CensorRuleSpec, type NetworkSelector, type RuleFilter } from './censor.js';
export { LabLog, type LabAction, type LabEvent, type LabEventFilter } from './event-log.js';
export { parseClientHello, MAX_CLIENT_HELLO_BYTES, type ClientHelloResult } from './client-hello.js';
export { planDnsReply, HONEST_TTL, FORGED_TTL, type DnsContext, type DnsPlan, type DnsReply } from './dns-answer.js';
export {
  LAB_ROOT_CN, STATE_ROOT_CN, forgeCertificate, issueSiteCertificate, labRootCa, labStateRoot, type CertifiedKey,
} from './certificates.js';
export { BLOCKPAGE_MARKER, BLOCKPAGE_TEXT } from './pages.js';
export {
  FINGERPRINT_COLUMNS, BLOCKPAGE_BODY_FINGERPRINT, BLOCKPAGE_REDIRECT_FINGERPRINT, BLOCKPAGE_DNS_FINGERPRINT,
  httpFingerprintsCsv, dnsFingerprintsCsv,
} from './fingerprints.js';
export { LARGE_RESOURCE_PATH, DOH_PATH } from './web.js';
export { LAB_RANGES, LOOPBACK_BOGON, NAMESPACE_BOGON, isLabAddress } from './addresses.js';
export { queryDns, tcpConnect, tlsHandshake, httpGet, errorCode, type DnsQueryOptions, type DnsResponse, type TcpResult, type TlsResult, type HttpResult } from './clients.js';
