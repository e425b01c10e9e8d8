// The censorship lab for bench/probe-footprint, in its own process so the
// probe's figures are its own (plain JS over the built lab: run `npm run
// build` first). Every host of the probe's core list and of the Kazakhstan
// list becomes a lab site (own address, certificate from the lab root), so
// the probe measures those lists' real URLs against the lab. The control
// vantage is the collector's real `control` command, bound to the lab's
// control network. Prints one JSON line, then serves until stdin closes.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CONTROL_SOURCE, LAB_SITES, startLab } from '../../test/lab/dist/index.js';

const listFile = process.argv[2];
if (listFile === undefined) throw new Error('usage: lab-process.mjs HOSTS.json');
const hosts = JSON.parse(readFileSync(listFile, 'utf8'));
const known = new Set(LAB_SITES.map((s) => s.domain));
const extraSites = hosts
  .filter((h) => !known.has(h))
  .map((domain) => ({ domain, title: `${domain} (lab copy)`, tagline: `The lab's stand-in for ${domain}.`, organization: 'Steppe lab' }));
const lab = await startLab({ extraSites, logLimit: 1000 });

const collectorBin = fileURLToPath(new URL('../../collector/bin/steppe-collector.js', import.meta.url));
const control = spawn(process.execPath, [
  collectorBin, 'control', '--port', '0', '--host', CONTROL_SOURCE,
  '--resolver', lab.resolver.address, '--control-local-address', CONTROL_SOURCE,
  '--allow-net', '127.0.0.0/8', '--ca-file', lab.rootCaFile,
], { stdio: ['ignore', 'pipe', 'inherit'] });
const controlUrl = await new Promise((resolve, reject) => {
  createInterface({ input: control.stdout }).on('line', (line) => {
    const url = /https?:\/\/\S+/.exec(line)?.[0];
    if (url !== undefined) resolve(url.replace(/\/+$/, ''));
  });
  control.once('exit', (code) => reject(new Error(`control exited with ${code}`)));
});

process.stdout.write(`${JSON.stringify({
  resolver: lab.resolver.address,
  ports: lab.ports,
  rootCaFile: lab.rootCaFile,
  stateRootFile: lab.stateRootFile,
  controlUrl,
  probeSource: lab.source('kazakhtelecom'),
  sites: lab.sites.length,
})}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  void (async () => {
    control.kill('SIGTERM');
    await lab.close();
    process.exit(0);
  })();
});
