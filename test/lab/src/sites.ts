import { InvalidArgumentError } from '@steppe/shared';

/** What a lab host serves. */
export type SiteRole = 'site' | 'blockpage' | 'doh';

/** A web host of the lab's simulated Internet. */
export interface LabSiteSpec {
  /** Host name, lower case, no trailing dot. */
  readonly domain: string;
  /** `<title>` of its home page. */
  readonly title: string;
  /** A sentence or two shown on its home page. */
  readonly tagline: string;
  /** Subject organisation of its certificate. */
  readonly organization: string;
  /** Extra names in its certificate's subjectAltName (e.g. the apex for a www host). */
  readonly altNames?: readonly string[];
  /** `site` (default): a normal web site; `blockpage`: the censor's warning host; `doh`: the DNS-over-HTTPS resolver. */
  readonly role?: SiteRole;
  /**
   * The site sits behind a CDN that answers visitors from in-country networks
   * with its challenge page (Cloudflare's "Just a moment...", status 403,
   * `cf-mitigated: challenge`) and everyone else, the control included, with
   * the page: the site's own doing, not censorship.
   */
  readonly cdnChallenge?: boolean;
}

/** A lab host with the address the lab gave it. */
export interface LabSite extends LabSiteSpec {
  readonly role: SiteRole;
  /** Its own address (one per domain), e.g. 127.10.0.1. */
  readonly address: string;
}

/** The host that serves the censor's blockpage (RFC 6761 `.test` names never leak to real DNS). */
export const BLOCKPAGE_DOMAIN = 'block.steppe.test';

/** The lab's DNS-over-HTTPS host (RFC 8484), an honest resolver a censor cannot read. */
export const DOH_DOMAIN = 'dns.steppe.test';

/** The independent news outlet of the default catalog. */
export const NEWS_DOMAIN = 'vlast.kz';

/** The catalog's shop behind a CDN that challenges in-country visitors (RFC 6761 `.test` name). */
export const CDN_CHALLENGE_DOMAIN = 'shop.steppe.test';

/**
 * The default catalog: the platforms blocked on 6 December 2020, an
 * independent Kazakh news outlet, the censor's blockpage host, the lab's
 * DoH resolver and a shop whose CDN challenges in-country visitors. Each
 * domain gets its own address.
 */
export const LAB_SITES: readonly LabSiteSpec[] = [
  {
    domain: 'facebook.com',
    title: 'Facebook - log in or sign up',
    tagline: 'Connect with friends and the world around you on Facebook.',
    organization: 'Meta Platforms, Inc.',
    altNames: ['*.facebook.com'],
  },
  {
    domain: 'www.facebook.com',
    title: 'Facebook - log in or sign up',
    tagline: 'Connect with friends and the world around you on Facebook.',
    organization: 'Meta Platforms, Inc.',
    altNames: ['facebook.com', '*.facebook.com'],
  },
  {
    domain: 'instagram.com',
    title: 'Instagram',
    tagline: 'Sign up to see photos and videos from your friends.',
    organization: 'Meta Platforms, Inc.',
    altNames: ['*.instagram.com'],
  },
  {
    domain: 'www.instagram.com',
    title: 'Instagram',
    tagline: 'Sign up to see photos and videos from your friends.',
    organization: 'Meta Platforms, Inc.',
    altNames: ['instagram.com', '*.instagram.com'],
  },
  {
    domain: 'youtube.com',
    title: 'YouTube',
    tagline: 'Enjoy the videos and music you love, upload original content, and share it all with friends, family, and the world on YouTube.',
    organization: 'Google LLC',
    altNames: ['*.youtube.com'],
  },
  {
    domain: 'www.youtube.com',
    title: 'YouTube',
    tagline: 'Enjoy the videos and music you love, upload original content, and share it all with friends, family, and the world on YouTube.',
    organization: 'Google LLC',
    altNames: ['youtube.com', '*.youtube.com'],
  },
  {
    domain: NEWS_DOMAIN,
    title: 'Власть — независимое издание о политике и обществе Казахстана',
    tagline: 'Новости, расследования и аналитика. Независимая журналистика из Алматы.',
    organization: 'Vlast.kz',
    altNames: ['www.vlast.kz'],
  },
  {
    domain: BLOCKPAGE_DOMAIN,
    title: 'Доступ ограничен',
    tagline: 'Доступ к запрашиваемому ресурсу ограничен.',
    organization: 'Steppe Lab Censor',
    role: 'blockpage',
  },
  {
    domain: DOH_DOMAIN,
    title: 'Steppe lab DNS-over-HTTPS',
    tagline: 'An honest DNS-over-HTTPS resolver (RFC 8484) at /dns-query.',
    organization: 'Steppe Censorship Lab',
    role: 'doh',
  },
  {
    domain: CDN_CHALLENGE_DOMAIN,
    title: 'Steppe Bazaar — carpets, felt and silver from Almaty',
    tagline: 'Hand-made carpets, felt and silver, shipped across Kazakhstan.',
    organization: 'Steppe Bazaar LLP',
    cdnChallenge: true,
  },
];

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalise a host name (lower case, no trailing dot); throws for anything that is not one. */
export function normalizeDomain(name: string, what = 'domain'): string {
  const domain = name.trim().toLowerCase().replace(/\.$/, '');
  const labels = domain.split('.');
  if (domain.length === 0 || domain.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new InvalidArgumentError(`${what}: ${JSON.stringify(name)} is not a host name such as www.facebook.com`);
  }
  return domain;
}
