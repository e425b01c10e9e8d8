import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CliIO, type Command, ERROR_CODES, EXIT, InvalidArgumentError, UsageError, parseCommandLine } from '@steppe/shared';
import { parsePublicKeyArgument } from '../../export/collector-key.js';
import { COLLECTOR_COLUMN_KEYS } from '../../export/collector-record.js';
import { CARRIER_FIELDS, PROBE_FIELD_KEYS, type ProofVerification, verifyJsonlProofs } from '../../export/verify-proofs.js';
import { verifySnapshot } from '../../export/verify-snapshot.js';

const HELP = `Usage: steppe-collector verify PATH [--public-key KEY] [--measurements] [--partial]

Verify a downloaded dataset, and say which fields are covered by whose signature.

PATH is a snapshot directory: the ed25519 signature in manifest.sig must
verify over manifest.json's exact bytes, and every file the manifest lists
must have its size and SHA-256. With --measurements, every measurement of the
JSON Lines file is checked too, as below, and its seal against the manifest.

PATH may also be a JSON Lines export (.jsonl or .jsonl.gz, from a snapshot or
GET /api/v1/exports/measurements.jsonl). Each line is checked twice:
  - the probe's signature covers the raw measurement: its bytes' digest is in
    a batch header the probe signed, and every field the probe signed (id,
    observations, control, the probe's own analysis, ...) must equal what the
    bytes decode to;
  - the collector's seal covers what the collector derived (network, current
    verdict, source, received time, ...): every such field must equal the
    line's record, each record is under a Merkle root the collector signed,
    and the export's last seal gives its row count and the root over every
    line, so a line removed, added or moved is detected.
A file without the export's last seal (cut, or an extract) fails: removed or
moved lines could not be detected. --partial accepts it and checks each line
(full proofs) or each sealed page (compact) on its own, and says so.

Options:
  --public-key KEY   the collector's public key, obtained independently (GET
                     /api/v1/collector-key): base64, PEM, that JSON document,
                     or a file holding one. Without it the key named in the
                     manifest or in the file's seals is used, which proves the
                     data is intact but not who signed it.
  --measurements     also check every measurement (snapshots)
  --partial          the file is an extract of an export (JSON Lines files)

Exit status: 0 valid; 1 invalid (STEPPE_ERR_SNAPSHOT_INVALID); 2 bad options.
`;

const OPTIONS = {
  'public-key': { type: 'string' },
  measurements: { type: 'boolean' },
  partial: { type: 'boolean' },
} as const;

const INVALID = 'STEPPE_ERR_SNAPSHOT_INVALID' satisfies keyof typeof ERROR_CODES;

function keyNote(source: 'given' | 'file' | 'manifest', fingerprint: string | undefined): string {
  const where = source === 'given'
    ? 'the key given'
    : `the key named in the ${source === 'file' ? 'file' : 'manifest'}: compare it with the collector's /api/v1/collector-key, or pass --public-key`;
  return `${fingerprint ?? 'no usable key'} (${where})`;
}

/** Which fields each signature covers, what it proved, and the failures. */
function reportProofs(io: CliIO, name: string, p: ProofVerification): void {
  const s = p.seals;
  io.stdout.write(`measurements in ${name}: ${p.measurements}\n`);
  io.stdout.write(`  probe signature (each probe's key) covers the raw measurement: ${PROBE_FIELD_KEYS.join(', ')}\n`);
  io.stdout.write(`    ${p.verified} verified; ${p.unsigned} imports carry no probe signature (their fields are checked against their bytes, which the collector's seal covers)\n`);
  io.stdout.write(`  collector seal, ${keyNote(s.keySource, s.keyFingerprint)}, covers: ${COLLECTOR_COLUMN_KEYS.join(', ')}, and each measurement's bytes (SHA-256)\n`);
  io.stdout.write(`    ${s.sealed} verified${s.exportId === undefined ? '' : `, export ${s.exportId}`}\n`);
  io.stdout.write(`  covered by no signature (they carry the proofs): ${CARRIER_FIELDS.join(', ')}\n`);
  const order = {
    checked: `checked: the last seal gives ${s.rowCount ?? 0} lines and root ${s.exportRoot ?? ''}; a line removed, added or moved would fail`,
    failed: 'FAILED: the lines are not the export the collector sealed (below)',
    partial: 'NOT CHECKED (--partial): lines removed, added or moved cannot be detected in an extract',
    absent: 'CANNOT BE DETECTED: the file holds no last seal (row count and root)',
  }[s.completeness];
  io.stdout.write(`  order and completeness: ${order}\n`);
  for (const f of p.failures) {
    const where = f.lastLine === undefined ? `line ${f.line}` : `lines ${f.line}-${f.lastLine}`;
    io.stdout.write(`  FAIL ${where}${f.id === '' ? '' : ` (${f.id})`}: ${f.reason}\n`);
  }
  if (p.moreFailures > 0) io.stdout.write(`  ... and ${p.moreFailures} more\n`);
  for (const problem of s.problems) io.stdout.write(`  FAIL ${problem}\n`);
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
    const proofs = await verifyJsonlProofs(path, { ...(publicKey === undefined ? {} : { publicKey }), partial: values.partial === true });
    reportProofs(io, path, proofs);
    const failed = proofs.failures.length + proofs.moreFailures;
    const problems = [...(failed > 0 ? [`${failed} failure(s) in the measurements`] : []), ...proofs.seals.problems];
    if (proofs.measurements === 0) problems.push('the file holds no measurements');
    if (problems.length > 0) return invalid(io, problems);
    io.stdout.write(proofs.seals.completeness === 'partial' ? 'VALID (each line; not that the export is whole)\n' : 'VALID\n');
    return EXIT.OK;
  }
  if (values.partial === true) throw new UsageError('--partial applies to a JSON Lines file, not a snapshot directory');

  const result = await verifySnapshot(path, { ...(publicKey === undefined ? {} : { publicKey }), measurements: values.measurements === true });
  const m = result.manifest;
  if (m !== undefined) {
    io.stdout.write(`snapshot ${m.snapshot_id}: ${m.row_count} measurements, ${m.time_range.first_measurement ?? '-'} .. ${m.time_range.last_measurement ?? '-'}, created ${m.created_at}\n`);
    io.stdout.write(`query: ${JSON.stringify(m.query)}\n`);
  }
  io.stdout.write(`signature: ${result.signatureValid ? 'valid' : 'INVALID'}, ${keyNote(result.keySource, result.keyFingerprint)}\n`);
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
  summary: 'Verify a downloaded dataset: snapshot or JSON Lines export',
  help: HELP,
  run,
};
