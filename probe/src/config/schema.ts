import { check, type Cidr } from '@steppe/shared';
import { allowNetList, byteSize, cidrs, categoryCode, cronExpression, listName, nullable, resolverSetting, timeZone } from './checks.js';
import { type DocumentStep, versioned } from './versioned-document.js';

/** Version of the config file layout (`configVersion`); older layouts are brought forward on load. */
export const CONFIG_VERSION = 1;

/**
 * Forward steps of the config layout, one per version after 1 (none yet:
 * v0.1's layout is the current one). A change to the file's fields bumps
 * CONFIG_VERSION and appends a step here; probe/test/fixtures/v0.1-data-dir
 * must keep loading.
 */
const CONFIG_STEPS: readonly DocumentStep[] = [];

/** Defaults (docs/cli.md, "Configuration file"). */
export const CONFIG_DEFAULTS = {
  coreCron: '*/15 * * * *',
  fullCron: '0 */6 * * *',
  /** Random delay before each run, so probes don't all fire at :00. */
  maxJitterSeconds: 300,
  timezone: 'UTC',
  lists: ['kz', 'global'],
  concurrency: 4,
  perTargetTimeoutMs: 30_000,
  maxBodyBytes: 512 * 1024,
  /** A volunteer's bandwidth is a gift: 10 GiB a month, then only the core list. */
  monthlyBudgetBytes: 10 * 2 ** 30,
  outboxMaxBytes: 256 * 2 ** 20,
  outboxMaxAgeDays: 60,
  uploadTimeoutMs: 60_000,
  /** Every public unicast address; tests and the lab pass loopback only. */
  allowNet: ['public'],
  controlSni: 'example.org',
} as const;

const httpUrl = check.url({ protocols: ['http:', 'https:'] });

const scheduleSchema = check.object({
  coreCron: check.optional(cronExpression(), CONFIG_DEFAULTS.coreCron),
  fullCron: check.optional(cronExpression(), CONFIG_DEFAULTS.fullCron),
  maxJitterSeconds: check.optional(check.integer({ min: 0, max: 3600 }), CONFIG_DEFAULTS.maxJitterSeconds),
  timezone: check.optional(timeZone(), CONFIG_DEFAULTS.timezone),
});

const testListsSchema = check.object({
  /** Lists measured by the full run, besides the core list ("kz", "global", or a collector list name). */
  lists: check.optional(check.list(listName(), { max: 32 }), [...CONFIG_DEFAULTS.lists]),
  /** Only these categories (empty: all). */
  categories: check.optional(check.list(categoryCode(), { max: 64 }), []),
  /** Never these categories, core list included (a volunteer's safety choice). */
  excludeCategories: check.optional(check.list(categoryCode(), { max: 64 }), []),
  /** Install newer lists the collector announces (validated; a bad one is refused). */
  acceptFromCollector: check.optional(check.boolean(), true),
});

const limitsSchema = check.object({
  concurrency: check.optional(check.integer({ min: 1, max: 64 }), CONFIG_DEFAULTS.concurrency),
  perTargetTimeoutMs: check.optional(check.integer({ min: 1000, max: 600_000 }), CONFIG_DEFAULTS.perTargetTimeoutMs),
  maxBodyBytes: check.optional(byteSize({ min: 1024, max: 64 * 2 ** 20 }), CONFIG_DEFAULTS.maxBodyBytes),
  /** Bytes sent + received per calendar month (UTC); null: no limit. */
  monthlyBudgetBytes: check.optional(nullable(byteSize({ min: 1, max: 2 ** 50 })), CONFIG_DEFAULTS.monthlyBudgetBytes as number | null),
  outboxMaxBytes: check.optional(byteSize({ min: 2 ** 20, max: 2 ** 40 }), CONFIG_DEFAULTS.outboxMaxBytes),
  outboxMaxAgeDays: check.optional(check.integer({ min: 1, max: 3650 }), CONFIG_DEFAULTS.outboxMaxAgeDays),
  uploadTimeoutMs: check.optional(check.integer({ min: 0, max: 3_600_000 }), CONFIG_DEFAULTS.uploadTimeoutMs),
});

const networkSchema = check.object({
  /** "system" (first nameserver of /etc/resolv.conf) or IP:PORT. */
  resolver: check.optional(resolverSetting(check.ipPort()), 'system'),
  /** The only networks any socket may reach: CIDRs and/or "public". */
  allowNet: check.optional(allowNetList(), allowNetList()([...CONFIG_DEFAULTS.allowNet], 'network.allowNet')),
  localAddress: check.optional(nullable(check.ip()), null),
  /** HTTPS or SOCKS5 proxy for the uplink and list downloads (e.g. a local Tor: socks5h://127.0.0.1:9050). */
  proxy: check.optional(nullable(check.url({ protocols: ['http:', 'https:', 'socks:', 'socks5:', 'socks5h:'] })), null),
  /** Benign server name for the control-SNI handshake. */
  controlSni: check.optional(check.string({ min: 1, max: 253, pattern: /^[a-z0-9.-]+$/i, describe: 'a DNS name such as example.org' }), CONFIG_DEFAULTS.controlSni),
  /** Extra trusted root (PEM file), for the lab; Mozilla's roots stay trusted. */
  caFile: check.optional(nullable(check.string({ min: 1, describe: 'a path to a PEM file' })), null),
  /** Extra known interception roots (PEM file). */
  interceptionRootsFile: check.optional(nullable(check.string({ min: 1, describe: 'a path to a PEM file' })), null),
  /** Lab only: networks whose addresses are not bogons (the lab serves its "Internet" from them). */
  labAddresses: check.optional(cidrs(), [] as Cidr[]),
});

/** The probe's configuration file (`probe-config.json` in the data directory), any layout up to CONFIG_VERSION. */
export const probeConfigSchema = versioned({ field: 'configVersion', current: CONFIG_VERSION, steps: CONFIG_STEPS }, check.object({
  configVersion: check.integer({ min: CONFIG_VERSION, max: CONFIG_VERSION }),
  /** Where the probe keeps its key, outbox, state; the folder holding this file. */
  dataDir: check.string({ min: 1, describe: 'a directory path' }),
  /** Collector base URLs (http(s)://host:port), tried in order. */
  collectors: check.list(httpUrl, { min: 1, max: 8 }),
  /** Control vantage base URL; null: the first collector. */
  controlUrl: check.optional(nullable(httpUrl), null),
  /** Required when the collector enrolls probes by token. */
  enrollmentToken: check.optional(nullable(check.string({ min: 1, max: 512 })), null),
  schedule: check.optional(scheduleSchema, scheduleSchema({}, 'schedule')),
  testLists: check.optional(testListsSchema, testListsSchema({}, 'testLists')),
  limits: check.optional(limitsSchema, limitsSchema({}, 'limits')),
  network: check.optional(networkSchema, networkSchema({}, 'network')),
}));

/** The validated configuration, every default filled in. */
export type ProbeConfig = ReturnType<typeof probeConfigSchema>;
