import { existsSync, mkdirSync } from 'node:fs';
import { type CliIO, type Command, checkOption, check, EXIT, parseCommandLine, SteppeError, UsageError } from '@steppe/shared';
import { allowNetList, byteSize, nullable } from '../../config/checks.js';
import { buildConfigDocument, type ConfigInit, configPath, loadProbeConfig, resolveDataDir, writeProbeConfig } from '../../config/file.js';
import { CONFIG_DEFAULTS } from '../../config/schema.js';
import { askForConsent } from '../../consent/prompt.js';
import { consentNotice } from '../../consent/notice.js';
import { type ConsentMethod, hasCurrentConsent, readConsent, recordConsent } from '../../consent/consent-record.js';
import { secureDataDir } from '../../data-dir/file-modes.js';
import { loadOrCreateIdentity } from '../../identity/identity.js';
import { table } from '../progress.js';
import { probeLanguage, probeText } from '../language.js';

const HELP = `Usage: steppe-probe init [options]

Set up a probe: show the informed-consent notice and ask you to accept it,
write the configuration file, and create the probe's signing key. Nothing is
measured until the notice has been accepted.

Options:
  --data-dir DIR             where the probe keeps its config, key, outbox and
                             state (default: $STEPPE_DATA_DIR, $STATE_DIRECTORY,
                             or ~/.local/state/steppe-probe)
  --collector URL[,URL...]   collector base URLs (http(s)://host:port), tried
                             in order; required unless a config exists
  --control URL              control vantage base URL (default: the first
                             collector)
  --enrollment-token TOKEN   for collectors that enroll probes by token
  --resolver IP:PORT|system  DNS resolver measured with (default: system, the
                             first nameserver of /etc/resolv.conf)
  --allow-net LIST           the only networks any socket may reach: CIDRs
                             and/or "public" (default: public)
  --local-address IP         bind every outgoing socket to this address
  --proxy URL                https:// or socks5:// proxy for the uplink and
                             list downloads (e.g. socks5://127.0.0.1:9050)
  --categories CODES         measure only these categories, e.g. NEWS,GRP
  --exclude-categories CODES never measure these categories, e.g. LGBT,REL
  --monthly-budget SIZE      bytes a month, e.g. 5GiB (default 10GiB), or
                             "none"; once reached only the core list runs
  --concurrency N            targets measured at once (default ${CONFIG_DEFAULTS.concurrency})
  --ca-file PEM              trust this root too (lab and private deployments)
  --force                    overwrite an existing config with these options
  --if-missing               write the config only when there is none, else
                             keep it as it is (containers run init at every
                             start)
  --accept-risks             accept the informed-consent notice without the
                             prompt (you must still read it: it is printed)

The notice is shown in the language of --lang, $STEPPE_LANG or the locale
(en, ru, kk) and accepted by typing "yes" («да», «иә») on a terminal, or
with --accept-risks. Run init again to read it again or after it changed.

Exit status: 0 ready; 2 bad options or configuration; 3 notice not accepted.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  collector: { type: 'string' },
  control: { type: 'string' },
  'enrollment-token': { type: 'string' },
  resolver: { type: 'string' },
  'allow-net': { type: 'string' },
  'local-address': { type: 'string' },
  proxy: { type: 'string' },
  categories: { type: 'string' },
  'exclude-categories': { type: 'string' },
  'monthly-budget': { type: 'string' },
  concurrency: { type: 'string' },
  'ca-file': { type: 'string' },
  force: { type: 'boolean' },
  'if-missing': { type: 'boolean' },
  'accept-risks': { type: 'boolean' },
} as const;

const CONFIG_OPTIONS = [
  'collector', 'control', 'enrollment-token', 'resolver', 'allow-net', 'local-address', 'proxy',
  'categories', 'exclude-categories', 'monthly-budget', 'concurrency', 'ca-file',
] as const;

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The config `init` would write, from the command line (validated: UsageErrors name the option). */
function configFromOptions(dataDir: string, values: Partial<Record<(typeof CONFIG_OPTIONS)[number], string>>): ConfigInit {
  const collectorText = values.collector;
  if (collectorText === undefined) {
    throw new UsageError(`option --collector is required to create a config (e.g. --collector https://collector.example.org)`);
  }
  const collectors = list(collectorText).map((url) => checkOption('--collector', url, check.url({ protocols: ['http:', 'https:'] })));
  if (collectors.length === 0) throw new UsageError('option --collector: expected at least one URL');
  const budgetText = values['monthly-budget'];
  const init: ConfigInit = {
    dataDir,
    collectors,
    ...(values.control !== undefined ? { controlUrl: checkOption('--control', values.control, check.url({ protocols: ['http:', 'https:'] })) } : {}),
    ...(values['enrollment-token'] !== undefined ? { enrollmentToken: checkOption('--enrollment-token', values['enrollment-token'], check.string({ min: 1, max: 512 })) } : {}),
    ...(values.resolver !== undefined ? { resolver: values.resolver } : {}),
    ...(values['allow-net'] !== undefined ? { allowNet: (checkOption('--allow-net', values['allow-net'], allowNetList()), list(values['allow-net'])) } : {}),
    ...(values['local-address'] !== undefined ? { localAddress: checkOption('--local-address', values['local-address'], check.ip()) } : {}),
    ...(values.proxy !== undefined ? { proxy: values.proxy } : {}),
    ...(values.categories !== undefined ? { categories: list(values.categories) } : {}),
    ...(values['exclude-categories'] !== undefined ? { excludeCategories: list(values['exclude-categories']) } : {}),
    ...(budgetText !== undefined
      ? { monthlyBudget: budgetText === 'none' ? null : checkOption('--monthly-budget', budgetText, nullable(byteSize({ min: 1, max: 2 ** 50 }))) }
      : {}),
    ...(values.concurrency !== undefined ? { concurrency: checkOption('--concurrency', values.concurrency, check.integer({ min: 1, max: 64 })) } : {}),
    ...(values['ca-file'] !== undefined ? { caFile: values['ca-file'] } : {}),
  };
  // Validate the whole document now, so a bad --resolver or --categories is
  // reported before the notice and nothing is written.
  buildConfigDocument(init);
  return init;
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const path = configPath(dataDir);
  const configExists = existsSync(path);
  const givenConfigOptions = CONFIG_OPTIONS.filter((o) => values[o] !== undefined);
  let init: ConfigInit | undefined;
  if (values.force === true && values['if-missing'] === true) throw new UsageError('options --force and --if-missing contradict each other');
  if (!configExists || values.force === true) {
    init = configFromOptions(dataDir, values);
  } else {
    if (givenConfigOptions.length > 0 && values['if-missing'] !== true) {
      throw new UsageError(`${path} exists; pass --force to replace it with --${givenConfigOptions.join(', --')} (or edit it)`);
    }
    loadProbeConfig(dataDir); // an existing config must be valid before we rely on it
  }

  // The notice comes before anything is written: declining leaves no trace.
  const language = probeLanguage(io.env);
  const tr = probeText(io.env);
  io.stdout.write(`${consentNotice(language).text}\n`);
  const previous = readConsent(dataDir);
  let method: ConsentMethod;
  if (values['accept-risks'] === true) {
    method = 'accept-risks-flag';
    io.stdout.write(`${tr.t('init.acceptedWithFlag')}\n`);
  } else if (io.stdin.isTTY === true) {
    const yes = await askForConsent(io.stdin, io.stdout, io.signal, tr.t('init.prompt'));
    if (!yes) {
      io.stdout.write(`\n${tr.t('init.declined')}\n`);
      return EXIT.CONSENT;
    }
    method = 'interactive';
  } else {
    throw new SteppeError(
      'STEPPE_ERR_CONSENT_REQUIRED',
      'the notice above must be accepted, and this is not a terminal where "yes" can be typed: read it, then run again with --accept-risks',
    );
  }

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  secureDataDir(dataDir);
  if (init !== undefined) writeProbeConfig(dataDir, buildConfigDocument(init));
  const config = loadProbeConfig(dataDir);
  const identity = loadOrCreateIdentity(dataDir);
  const consent = recordConsent(dataDir, method, undefined, language);

  const rows = [
    [tr.t('init.dataDir'), dataDir],
    [tr.t('init.config'), tr.t(init === undefined ? 'init.configKept' : 'init.configWritten', { path })],
    [tr.t('init.collectors'), config.collectors.join(', ')],
    [tr.t('init.probeId'), identity.probeId],
    [tr.t('init.fingerprint'), tr.t(identity.created ? 'init.fingerprintNew' : 'init.fingerprintKept', { fingerprint: identity.fingerprint })],
    [tr.t('init.consent'), tr.t('init.consentLine', {
      version: consent.version, acceptedAt: consent.acceptedAt, again: previous !== undefined && hasCurrentConsent(previous) ? 'yes' : 'no',
    })],
  ];
  io.stdout.write(
    ['', tr.t('init.ready'), table(rows), '', tr.t('init.startWith', { dataDir }), tr.t('init.checkWith', { dataDir }), ''].join('\n'),
  );
  return EXIT.OK;
}

export const initCommand: Command = {
  name: 'init',
  summary: 'Set up a probe: config, identity, informed consent',
  help: HELP,
  run,
};
