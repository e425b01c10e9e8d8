import type { steppe } from '@steppe/proto';
import type { ControlView } from './control-view.js';
import { challengeOf } from './challenges.js';
import { matchDnsFingerprints } from './fingerprints.js';
import { certificateSha256, findInterceptionRoot } from './interception-roots.js';
import { type Context, type Decision, hex, httpName, responseFingerprints, tlsName } from './rule-context.js';

/**
 * Self-evident rules: evidence only a censor produces, judged without a
 * control (docs/verdicts.md, "Precedence" 1). Tried in step order.
 */

type HttpRequest = steppe.v1.HttpRequest.$Properties;

export function injectionRule(ctx: Context): Decision | undefined {
  if (ctx.dns.injection === undefined) return undefined;
  return { verdict: 'dns', blockingType: 'dns_injection', confirmed: true, evidence: [ctx.dns.injection] };
}

export function dnsFingerprintRule(ctx: Context): Decision | undefined {
  for (const v of ctx.dns.values) {
    if (ctx.control.addresses.has(v.value)) continue;
    const fp = matchDnsFingerprints(ctx.reference.dnsFingerprints, v.value).find((f) => f.strength === 'strong');
    if (fp !== undefined) {
      return {
        verdict: 'blockpage',
        blockingType: 'dns_blockpage',
        confirmed: true,
        fingerprintId: fp.name,
        evidence: [`dns_queries[${v.queryIndex}] answered ${v.value}, the blockpage address of DNS fingerprint ${fp.name} (scope ${fp.scope})`],
      };
    }
  }
  return undefined;
}

export function bogonRule(ctx: Context): Decision | undefined {
  const bogon = ctx.countedBogons[0];
  if (bogon === undefined) return undefined;
  const evidence = [`dns_queries[${bogon.queryIndex}] answered ${bogon.value}, a bogon (private/reserved address)`];
  if (ctx.control.dnsOk) evidence.push(`control.dns resolved public addresses: ${[...ctx.control.addresses].join(', ')}`);
  else evidence.push(`no control DNS answers (${ctx.control.available ? 'control.dns failed' : ctx.control.unavailableReason}): not confirmed`);
  return { verdict: 'dns', blockingType: 'dns_bogon', confirmed: ctx.control.dnsOk, evidence };
}

export function interceptionRootRule(ctx: Context): Decision | undefined {
  for (const t of ctx.eff.tls) {
    if (t.value.controlSni === true) continue;
    const chain = t.value.peerCertificates ?? [];
    const leaf = chain[0];
    if (leaf === undefined) continue;
    if (ctx.control.leafSha256s.has(certificateSha256(leaf))) continue;
    const match = findInterceptionRoot(chain, ctx.reference.interceptionRoots);
    if (match === undefined) continue;
    const subject = match.subjectCn;
    const how = match.kind === 'signature' ? 'issued by (issuer name and signature verified)' : match.kind === 'public_key' ? 'carries the public key of' : 'is';
    const verification = (t.value.verificationError ?? '') === '' ? 'the chain validated (the interception root is trusted on this machine)' : `verification failed with ${t.value.verificationError ?? ''}`;
    return {
      verdict: 'interception',
      blockingType: 'tls_mitm',
      confirmed: true,
      issuerCn: match.issuerCn,
      evidence: [
        `${tlsName(t)}: chain[${match.chainIndex}] "${subject}" ${how} the known interception root "${match.issuerCn}" (sha256 ${match.root.sha256.slice(0, 16)}...); ${verification}`,
      ],
    };
  }
  return undefined;
}

function sameBodyAsControl(h: HttpRequest, control: ControlView): boolean {
  const sha = hex(h.bodySha256);
  return sha !== '' && sha === hex(control.http?.bodySha256);
}

export function blockpageRule(ctx: Context): Decision | undefined {
  for (const h of ctx.chain) {
    const strong = responseFingerprints(h.value, ctx.reference).filter((f) => f.strength === 'strong');
    // A CDN's challenge page is not a blockpage, even where a blockpage list
    // names it (OONI's files Cloudflare's "Please Wait..." as a product's).
    const challenge = strong.length > 0 ? challengeOf(h.value, ctx.reference) : undefined;
    if (challenge !== undefined) {
      ctx.notes.push(`${httpName(h)} matches blockpage fingerprint ${strong[0]?.name ?? ''}, but it is a CDN challenge page (challenge fingerprint ${challenge.name}): not a blockpage`);
      continue;
    }
    // Guards against a site whose own page carries a fingerprinted text (a
    // CDN's name, an article quoting a blockpage): the control got the same
    // body, or the final response matches the control's.
    const matchesControl = h === ctx.final && ctx.comparison !== undefined && !ctx.comparison.differs;
    const fp = strong.find((f) => f.location !== 'body' || (!sameBodyAsControl(h.value, ctx.control) && !matchesControl));
    const ignored = strong.find((f) => f !== fp);
    if (fp === undefined && ignored !== undefined) {
      ctx.notes.push(`${httpName(h)} matches blockpage fingerprint ${ignored.name}, but the control got the same page: not a blockpage`);
    }
    if (fp === undefined) continue;
    return {
      verdict: 'blockpage',
      blockingType: 'http_blockpage',
      confirmed: true,
      fingerprintId: fp.name,
      evidence: [`${httpName(h)}: status ${h.value.statusCode ?? 0}, ${fp.location === 'header' ? `header ${fp.headerName}` : 'body'} matches blockpage fingerprint ${fp.name} (scope ${fp.scope}, ${fp.patternType} ${JSON.stringify(fp.pattern.slice(0, 60))})`],
    };
  }
  return undefined;
}
