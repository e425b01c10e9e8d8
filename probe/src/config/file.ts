import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, check, parseJsonConfig, RESOLV_CONF, systemResolver, UsageError } from '@steppe/shared';
import { writeJsonAtomic } from './json-file.js';
import { allowNetItems } from './checks.js';
import { CONFIG_DEFAULTS, CONFIG_VERSION, type ProbeConfig, probeConfigSchema } from './schema.js';

/** File name of the config inside the data directory. */
export const CONFIG_FILE_NAME = 'probe-config.json';

/**
 * The data directory when `--data-dir` is not given: `$STEPPE_DATA_DIR`,
 * else systemd's `$STATE_DIRECTORY` (set by `StateDirectory=`), else
 * `$XDG_STATE_HOME/steppe-probe`, else `~/.local/state/steppe-probe`.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const explicit = env['STEPPE_DATA_DIR'];
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const systemd = env['STATE_DIRECTORY'];
  if (systemd !== undefined && systemd !== '') return resolve(systemd.split(':')[0] ?? systemd);
  const xdg = env['XDG_STATE_HOME'];
  const base = xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'steppe-probe');
}

/** The data directory a command uses: `--data-dir` when given, else {@link defaultDataDir}. */
export function resolveDataDir(option: string | undefined, env: NodeJS.ProcessEnv): string {
  if (option !== undefined) {
    if (option.trim() === '') throw new UsageError('option --data-dir: expected a directory path, got ""');
    return resolve(option);
  }
  return defaultDataDir(env);
}

/** Path of the config file in `dataDir`. */
export function configPath(dataDir: string): string {
  return join(dataDir, CONFIG_FILE_NAME);
}

/**
 * Load and validate the config of `dataDir`. A missing file says to run
 * `init`; a bad one names the field and the expected form (ConfigError,
 * exit 2). The directory the file is in is the data directory, whatever
 * `dataDir` inside says (a moved folder keeps working).
 */
export function loadProbeConfig(dataDir: string): ProbeConfig {
  const path = configPath(dataDir);
  if (!existsSync(path)) {
    throw new ConfigError('', `no probe configuration in ${dataDir} (${CONFIG_FILE_NAME} is missing): run \`steppe-probe init --data-dir ${dataDir}\` first`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('', `${path}: cannot read (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const config = parseJsonConfig(text, path, probeConfigSchema);
  return { ...config, dataDir: resolve(dataDir) };
}

/** Parse config text (tests, and the validation of `init`'s output). */
export function parseProbeConfig(text: string, source: string): ProbeConfig {
  return parseJsonConfig(text, source, probeConfigSchema);
}

/** What `init` may set; everything else takes its default. */
export interface ConfigInit {
  readonly dataDir: string;
  readonly collectors: readonly string[];
  readonly controlUrl?: string | null;
  readonly enrollmentToken?: string | null;
  readonly resolver?: string;
  readonly allowNet?: readonly string[];
  readonly localAddress?: string | null;
  readonly proxy?: string | null;
  readonly categories?: readonly string[];
  readonly excludeCategories?: readonly string[];
  readonly monthlyBudget?: number | string | null;
  readonly concurrency?: number;
  readonly caFile?: string | null;
}

/**
 * The JSON document `init` writes: every setting spelled out with its
 * default, so an operator can read and edit one file. Validated before it is
 * returned, so `init` never writes a config `start` would refuse.
 */
export function buildConfigDocument(init: ConfigInit): Record<string, unknown> {
  const doc = {
    configVersion: CONFIG_VERSION,
    dataDir: resolve(init.dataDir),
    collectors: [...init.collectors],
    controlUrl: init.controlUrl ?? null,
    enrollmentToken: init.enrollmentToken ?? null,
    schedule: {},
    testLists: {
      ...(init.categories !== undefined ? { categories: [...init.categories] } : {}),
      ...(init.excludeCategories !== undefined ? { excludeCategories: [...init.excludeCategories] } : {}),
    },
    limits: {
      ...(init.monthlyBudget !== undefined ? { monthlyBudgetBytes: init.monthlyBudget } : {}),
      ...(init.concurrency !== undefined ? { concurrency: init.concurrency } : {}),
    },
    network: {
      ...(init.resolver !== undefined ? { resolver: init.resolver } : {}),
      ...(init.allowNet !== undefined ? { allowNet: [...init.allowNet] } : {}),
      ...(init.localAddress !== undefined ? { localAddress: init.localAddress } : {}),
      ...(init.proxy !== undefined ? { proxy: init.proxy } : {}),
      ...(init.caFile !== undefined ? { caFile: init.caFile } : {}),
    },
  };
  // Validate, then write out every default so the file documents itself.
  const config = probeConfigSchema(doc, '');
  const allowNet = init.allowNet !== undefined ? allowNetItems([...init.allowNet]) : [...CONFIG_DEFAULTS.allowNet];
  return {
    ...config,
    network: { ...config.network, allowNet, labAddresses: config.network.labAddresses.map((c) => c.text) },
  };
}

/** Write the config document to `dataDir` (atomically, mode 0600). */
export function writeProbeConfig(dataDir: string, document: Record<string, unknown>): string {
  const path = configPath(dataDir);
  writeJsonAtomic(path, document);
  return path;
}

/** The control base URL: the configured one, else the first collector. */
export function controlUrlOf(config: ProbeConfig): string {
  return config.controlUrl ?? config.collectors[0] ?? '';
}

/**
 * The resolver to measure with: the configured IP:PORT, or for "system" the
 * first nameserver of /etc/resolv.conf (asked directly, never through the
 * system's stub). A ConfigError names `network.resolver` when none is found.
 */
export function resolverOf(config: ProbeConfig, resolvConf = RESOLV_CONF): { host: string; port: number } {
  const setting = config.network.resolver;
  if (setting !== 'system') return check.ipPort()(setting, 'network.resolver');
  try {
    return systemResolver(resolvConf);
  } catch (cause) {
    throw new ConfigError('network.resolver', `field "network.resolver": is "system" but ${resolvConf} names no usable nameserver; set IP:PORT instead`, { cause });
  }
}
