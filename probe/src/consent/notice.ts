/**
 * The informed-consent notice shown by `steppe-probe init`. docs/privacy.md
 * carries the same text (a test keeps them equal). Any change to what it
 * says must bump CONSENT_VERSION, so operators who accepted an older text are
 * asked again before the probe runs.
 */
export const CONSENT_VERSION = 1;

/** The notice, wrapped for a terminal. */
export const CONSENT_NOTICE = `STEPPE PROBE: READ THIS BEFORE YOU RUN IT

Steppe measures Internet censorship from your connection and sends the
results to a collector, which publishes them as open data so that people
can see when and how websites were blocked. You are volunteering your
connection for this. Please read what that means.

WHAT THE PROBE DOES
- Every 15 minutes it tests a short list of sites (Facebook, Instagram,
  YouTube, WhatsApp, Telegram and independent Kazakh news sites); every
  6 hours it tests the longer Kazakhstan and global lists of Citizen Lab
  (about 2,300 sites). Every list ships with the probe, so you can read it.
- For each site it does what a browser would: looks up the name (DNS),
  connects, starts an encrypted (TLS) connection and downloads the first
  part of the page. It records what happened on the wire: the answers,
  errors, timings, the certificates the server presented, the status,
  some headers, the page title and the first bytes of the page.
- It asks the collector to fetch the same site from outside the country,
  to tell censorship apart from a site that is simply down.
- It checks whether it can reach the collector at all, so that a total
  shutdown of your network shows up in the data.
- It uses at most the monthly amount of data set in its configuration;
  when that is used up it tests only the short list.

WHAT IS SENT AND PUBLISHED
- The measurements above, signed with a key created on this machine. The
  key gives your probe a pseudonymous id; it does not contain your name.
- The time of each measurement, the software version and the list used.
- The collector sees your IP address when the probe connects to it, as any
  website would. It uses it once to look up your network operator and
  country (for example "AS9198 Kazakhtelecom, KZ"), then discards it. The
  network and country are published with every measurement.

WHAT IS NEVER SENT
- Your IP address as data: wherever it appears in a measurement (a header,
  a page, an error message) it is replaced with "[scrubbed]" before the
  measurement is stored, and the probe never writes it to its logs.
- Your name, e-mail, accounts, passwords, cookies or browsing history.
- Anything about other programs or other traffic on your machine or your
  home network, your files, or your location finer than the country.

RISKS: PLEASE THINK ABOUT THEM
- Anyone who can watch your connection (your Internet provider, your
  employer, the state's lawful-interception systems) can see that your
  device regularly opens blocked and sensitive sites: opposition news,
  human rights groups, LGBT and religious sites, VPN and anonymity tools.
  From the pattern they may guess that you run a measurement tool.
- In Kazakhstan, the authorities may block sites and suspend networks
  without a court order (Article 41-1 of the Law "On Communications"), and
  have done so during elections, protests and the January 2022 events. In
  December 2020 users were told to install a state certificate that lets
  encrypted traffic be read. We know of no one prosecuted for measuring
  censorship, but laws and their use change. Opening some of these sites,
  or bypassing blocks, may be unlawful where you are.
- If you are the only volunteer on a small network (a company, a campus,
  a small local provider), the published network name may point to you.
- Do not run the probe on a work or school network, on a device someone
  else controls, or if you are already under surveillance, without
  thinking it through. If in doubt, ask a lawyer or a digital-security
  helpline first.

YOUR CHOICES
- You can leave out categories of sites ("excludeCategories" in the
  configuration), set the monthly data limit, and stop the probe at any
  time. Deleting its data folder removes its key and unsent results.
- Results already published cannot be recalled from copies others made.

To accept, type "yes". To decline, press Enter: nothing will be measured.
`;

/** What an operator must type to accept, case-insensitively. */
export const CONSENT_ANSWER = 'yes';
