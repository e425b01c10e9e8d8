import {
  type CliIO,
  CONTROL_PATH,
  type Command,
  EXIT,
  UsageError,
  check,
  checkOption,
  parseCommandLine,
  publicUnicastNetworks,
} from '@steppe/shared';
import { registerControlRoutes } from '../../control/index.js';
import { listenRouter } from '../../http/listen.js';
import { Router } from '../../http/router.js';
import { readPemOption, resolverOption, untilAborted } from '../options.js';

const HELP = `Usage: steppe-collector control --port N [options]

Serve only the control vantage (the test helper): POST ${CONTROL_PATH}
measures a URL from this machine's uncensored side (DNS with ASNs, TCP per
address, TLS with the leaf's SHA-256 and validity, HTTP status, length,
title, headers and throughput) so probes can tell blocking from outages.
Results are reused for 60 s per URL; callers are rate-limited per address
(the address is never stored).

Options:
  --port N                      TCP port to listen on (0: any free port)
  --host H                      address to listen on (default 127.0.0.1)
  --resolver IP:PORT            the control's DNS resolver (default: the first
                                nameserver of /etc/resolv.conf)
  --control-local-address IP    bind every outgoing socket to this address
  --allow-net CIDRS             the only networks measured sites may be reached
                                in, e.g. 127.0.0.0/8,::1/128 (default: every
                                public unicast address; never private ranges)
  --ca-file PEM                 trust these roots too (the lab's CA); Mozilla's
                                roots stay trusted

Prints the URL it listens on; stops cleanly on SIGINT/SIGTERM.
Exit status: 0 after a clean stop; 2 bad arguments.
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  resolver: { type: 'string' },
  'control-local-address': { type: 'string' },
  'allow-net': { type: 'string' },
  'ca-file': { type: 'string' },
} as const;

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  if (values.port === undefined) throw new UsageError('option --port is required');
  const port = checkOption('--port', values.port, check.integer({ min: 0, max: 65535 }));
  const host = checkOption('--host', values.host ?? '127.0.0.1', check.ip());
  const resolver = resolverOption('--resolver', values.resolver);
  const localAddress = values['control-local-address'] !== undefined ? checkOption('--control-local-address', values['control-local-address'], check.ip()) : undefined;
  const allowNet = values['allow-net'] !== undefined ? checkOption('--allow-net', values['allow-net'], check.cidrList()) : [...publicUnicastNetworks()];
  const extraCa = values['ca-file'] !== undefined ? readPemOption('--ca-file', values['ca-file']) : undefined;
  if (io.signal.aborted) return EXIT.OK;

  // Measurements still running when asked to stop are aborted with the server.
  const stop = new AbortController();
  const router = new Router();
  registerControlRoutes(router, { resolver, allowNet, localAddress, extraCa, signal: stop.signal });
  const listening = await listenRouter(router, host, port);
  io.stdout.write(`steppe-collector control: listening on ${listening.url}${CONTROL_PATH}\n`);

  await untilAborted(io.signal);
  stop.abort(new Error('shutting down'));
  await listening.close();
  io.stdout.write('steppe-collector control: stopped\n');
  return EXIT.OK;
}

/** `steppe-collector control`: the control vantage on its own. */
export const controlCommand: Command = {
  name: 'control',
  summary: 'Serve only the control vantage (test helper) endpoint',
  help: HELP,
  run,
};
