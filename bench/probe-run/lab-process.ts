import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidrList } from '@steppe/shared';
import { makeTestPki } from '../../shared/test/netx/helpers/certs.js';
import { controlServer } from '../../probe/test/experiments/helpers/control-server.js';
import { CONTROL_ADDRESS, miniLab } from '../../probe/test/experiments/helpers/mini-lab.js';

// The loopback lab of the engine tests (resolver, TLS front with the censor's
// behaviours, control vantage), run in its own process so the probe's
// figures are the probe's alone. Prints one JSON line with its addresses,
// then serves until stdin closes.
const pki = makeTestPki();
const lab = await miniLab(pki);
const control = await controlServer({ resolver: lab.resolver, localAddress: CONTROL_ADDRESS, allowNet: parseCidrList('127.0.0.0/8'), extraCa: [pki.caPem] });
const dir = process.argv[2] ?? '/tmp';
writeFileSync(join(dir, 'ca.pem'), pki.caPem);
writeFileSync(join(dir, 'state.pem'), pki.stateRootPem);
process.stdout.write(`${JSON.stringify({ resolver: lab.resolver, port: lab.port, controlUrl: control.url })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void (async () => {
    await control.close();
    await lab.close();
    pki.cleanup();
    process.exit(0);
  })();
});
