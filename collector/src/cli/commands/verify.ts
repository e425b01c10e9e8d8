import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CliIO, type Command, ERROR_CODES, EXIT, InvalidArgumentError, UsageError, parseCommandLine } from '@steppe/shared';
import { parsePublicKeyArgument } from '../../export/collector-key.js';
import { type ProofVerification, verifyJsonlProofs } from '../../export/verify-proofs.js';
import { verifySnapshot } from '../../export/verify-snapshot.js';

const HELP = `Usage: steppe-collector verify PATH [--public-key KEY] [--measurements]

Verify a downloaded dataset.

PATH is a snapshot directory: the ed25519 signature in manifest.sig must
verify over manifest.json's exact bytes, and every file the manifest lists
must have its size and SHA-256. With --measurements, every measurement's
proof in the JSON Lines file is checked too.

PATH may also be a JSON Lines export (.jsonl or .jsonl.gz, from a snapshot or
GET /api/v1/exports/measurements.jsonl): every measurement's probe signature
is checked (its bytes' digest is in a batch header the probe signed) and
every signed field of the line against what the bytes decode to.

Options:
  --public-key KEY   the collector's public key, obtained independently (GET
                     /api/v1/collector-key): base64, PEM, that JSON document,
                     or a file holding one. Without it the key named in the
                     manifest is used, which proves the files are intact but
                     not who signed them.
  --measurements     also check every measurement's proof (snapshots)

Exit status: 0 valid; 1 invalid (STEPPE_ERR_SNAPSHOT_INVALID); 2 bad options.
`;

const OPTIONS = {
  'public-key': { type: 'string' },
  measurements: { type: 'boolean' },
} as const;

const INVALID = 'STEPPE_ERR_SNAPSHOT_INVALID' satisfies keyof typeof ERROR_CODES;

function reportProofs(io: CliIO, name: string, p: ProofVerification): void {
  const failed = p.failures.length + p.moreFailures;
  io.stdout.write(`measurements in ${name}: ${p.verified} signed and verified, ${p.unsigned} unsigned imports checked against their bytes, ${failed} failed\n`);
  for (const f of p.failures) io.stdout.write(`  FAIL line ${f.line}${f.id === '' ? '' : ` (${f.id})`}: ${f.reason}\n`);
  if (p.moreFailures > 0) io.stdout.write(`  ... and ${p.moreFailures} more\n`);
}

function invalid(io: CliIO, problems: readonly string[]): number {
  io.stdout.write(`INVALID: ${problems.length} problem(s) [${INVALID}]\n`);
  for (const p of problems) io.stderr.write(`steppe-collector verify: ${p} [${INVALID}]\n`);
  return EXIT.FAILED;
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, true);
  const [target, ...rest] = positionals;
  if (target === undefined) throw new UsageError('PATH (a snapshot directory or a .jsonl[.gz] file) is required');
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const path = resolve(target);
  if (!existsSync(path)) throw new UsageError(`no file or directory at ${path}`);
  let publicKey: Uint8Array | undefined;
  if (values['public-key'] !== undefined) {
    try {
      publicKey = parsePublicKeyArgument(values['public-key']);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new UsageError(`option --public-key: ${err.message}`, { cause: err });
      throw err;
    }
  }

  if (statSync(path).isFile()) {
    const proofs = await verifyJsonlProofs(path);
    reportProofs(io, path, proofs);
    const failed = proofs.failures.length + proofs.moreFailures;
    if (failed > 0) return invalid(io, [`${failed} measurement(s) failed verification`]);
    if (proofs.verified + proofs.unsigned === 0) return invalid(io, ['the file holds no measurements']);
    io.stdout.write('VALID\n');
    return EXIT.OK;
  }

  const result = await verifySnapshot(path, { ...(publicKey === undefined ? {} : { publicKey }), measurements: values.measurements === true });
  const m = result.manifest;
  if (m !== undefined) {
    io.stdout.write(`snapshot ${m.snapshot_id}: ${m.row_count} measurements, ${m.time_range.first_measurement ?? '-'} .. ${m.time_range.last_measurement ?? '-'}, created ${m.created_at}\n`);
    io.stdout.write(`query: ${JSON.stringify(m.query)}\n`);
  }
  const keyNote = result.keySource === 'given'
    ? 'the key given'
    : "the key named in the manifest (compare it with the collector's /api/v1/collector-key, or pass --public-key)";
  io.stdout.write(`signature: ${result.signatureValid ? 'valid' : 'INVALID'}, ${result.keyFingerprint ?? 'no usable key'} (${keyNote})\n`);
  for (const f of result.files) io.stdout.write(`  ${f.ok ? 'ok  ' : 'FAIL'} ${f.name}${f.ok ? '' : `: ${f.problem ?? ''}`}\n`);
  for (const name of result.unlisted) io.stdout.write(`  note: ${name} is not listed in the manifest (not covered by the signature)\n`);
  if (result.measurements !== undefined) {
    const jsonl = m?.files.find((f) => f.format === 'jsonl')?.name ?? 'the JSON Lines file';
    reportProofs(io, jsonl, result.measurements);
  }
  if (!result.ok) return invalid(io, result.problems);
  io.stdout.write('VALID\n');
  return EXIT.OK;
}

/** `steppe-collector verify`. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Verify a downloaded dataset snapshot',
  help: HELP,
  run,
};
