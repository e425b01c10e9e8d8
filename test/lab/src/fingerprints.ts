import { BLOCKPAGE_MARKER } from './pages.js';
import { BLOCKPAGE_DOMAIN } from './sites.js';

/**
 * The lab censor's fingerprints in OONI's blocking-fingerprints CSV format
 * (ooni/blocking-fingerprints: fingerprints_http.csv / fingerprints_dns.csv,
 * same columns, `location_found` = body | header.<name> | dns), so the
 * probe's blockpage matcher can be pointed at them exactly as at OONI's.
 */
export const FINGERPRINT_COLUMNS = 'name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes';

/** Name of the body fingerprint of the lab blockpage. */
export const BLOCKPAGE_BODY_FINGERPRINT = 'steppe_lab.kz_blockpage';
/** Name of the Location-header fingerprint of the lab's 302 to its blockpage host. */
export const BLOCKPAGE_REDIRECT_FINGERPRINT = 'steppe_lab.kz_blockpage_forward';
/** Name of the DNS fingerprint of the lab's forged answers (the blockpage server's address). */
export const BLOCKPAGE_DNS_FINGERPRINT = 'steppe_lab.kz_dns_blockpage';

/** fingerprints_http.csv rows (with header) matching the lab's blockpage and its redirect. */
export function httpFingerprintsCsv(): string {
  return [
    FINGERPRINT_COLUMNS,
    `${BLOCKPAGE_BODY_FINGERPRINT},isp,,body,contains,${BLOCKPAGE_MARKER},5,KZ,steppe-lab,,"Body of the Steppe lab censor's blockpage (test/lab/src/pages.ts)"`,
    `${BLOCKPAGE_REDIRECT_FINGERPRINT},isp,,header.location,contains,://${BLOCKPAGE_DOMAIN}:,5,KZ,steppe-lab,,"302 from the Steppe lab censor to its blockpage host"`,
    '',
  ].join('\n');
}

/** fingerprints_dns.csv rows (with header): forged answers point at the blockpage server. */
export function dnsFingerprintsCsv(blockpageAddress: string): string {
  return [
    FINGERPRINT_COLUMNS,
    `${BLOCKPAGE_DNS_FINGERPRINT},isp,,dns,full,${blockpageAddress},5,KZ,steppe-lab,,"Forged answers of the Steppe lab censor point at its blockpage server"`,
    '',
  ].join('\n');
}
