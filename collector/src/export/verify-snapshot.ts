import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, bytesEqual, keyFingerprint, verifyBytes } from '@steppe/shared';
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSIONS_READ, type ManifestFile, SIGNATURE_FILE, type SnapshotManifest, isPlainFileName } from './manifest.js';
import { type ProofVerification, verifyJsonlProofs } from './verify-proofs.js';

/** The check of one listed file. */
export interface FileCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly problem?: string;
}

/** Result of verifying a snapshot directory. */
export interface SnapshotVerification {
  readonly ok: boolean;
  /** Every reason the snapshot is not valid, one sentence each. */
  readonly problems: readonly string[];
  readonly manifest: SnapshotManifest | undefined;
  readonly signatureValid: boolean;
  /** Whose key the signature was checked with: the one given, or the one the manifest names. */
  readonly keySource: 'given' | 'manifest';
  readonly keyFingerprint: string | undefined;
  readonly files: readonly FileCheck[];
  /** Files in the directory the manifest does not cover (not an error: reported). */
  readonly unlisted: readonly string[];
  /** Per-measurement proofs of the JSON Lines file, when asked for. */
  readonly measurements?: ProofVerification;
}

/** Options of `verifySnapshot`. */
export interface VerifyOptions {
  /**
   * The collector's public key obtained independently (e.g. from
   * `/api/v1/collector-key`). Without it the key named in the manifest is
   * used: that proves integrity, not who signed.
   */
  readonly publicKey?: Uint8Array;
  /** Also check every measurement's proof in the JSON Lines file. */
  readonly measurements?: boolean;
}

async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    hash.update(buf);
    bytes += buf.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function manifestShape(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const m = value as Partial<SnapshotManifest>;
  if (m.format !== MANIFEST_FORMAT) return `format is not "${MANIFEST_FORMAT}"`;
  if (typeof m.manifest_version !== 'number' || !MANIFEST_VERSIONS_READ.includes(m.manifest_version)) {
    return `manifest_version ${String(m.manifest_version)} is not supported (expected ${MANIFEST_VERSIONS_READ.join(' or ')})`;
  }
  if (typeof m.collector?.public_key !== 'string') return 'collector.public_key is missing';
  if (!Array.isArray(m.files)) return 'files is not a list';
  for (const f of m.files as unknown[]) {
    const file = f as Partial<ManifestFile>;
    if (typeof file.name !== 'string' || typeof file.sha256 !== 'string' || typeof file.bytes !== 'number') return 'a files entry lacks name, sha256 or bytes';
  }
  return undefined;
}

/**
 * Verify a downloaded snapshot: the ed25519 signature over manifest.json's
 * exact bytes, then each listed file's size and SHA-256. Any altered byte,
 * in the manifest or in any file, fails. Never throws for a bad snapshot:
 * every problem is listed.
 */
export async function verifySnapshot(dir: string, options: VerifyOptions = {}): Promise<SnapshotVerification> {
  const problems: string[] = [];
  const keySource: 'given' | 'manifest' = options.publicKey === undefined ? 'manifest' : 'given';
  const fail = (problem: string, extra: Partial<SnapshotVerification> = {}): SnapshotVerification => ({
    ok: false,
    problems: [...problems, problem],
    manifest: undefined,
    signatureValid: false,
    keySource,
    keyFingerprint: options.publicKey === undefined ? undefined : keyFingerprint(options.publicKey),
    files: [],
    unlisted: [],
    ...extra,
  });

  let manifestBytes: Uint8Array;
  let signatureText: string;
  try {
    manifestBytes = new Uint8Array(await readFile(join(dir, MANIFEST_FILE)));
  } catch {
    return fail(`${MANIFEST_FILE} is missing or unreadable in ${dir}`);
  }
  try {
    signatureText = (await readFile(join(dir, SIGNATURE_FILE), 'utf8')).trim();
  } catch {
    return fail(`${SIGNATURE_FILE} is missing or unreadable in ${dir}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(manifestBytes).toString('utf8'));
  } catch {
    return fail(`${MANIFEST_FILE} is not valid JSON`);
  }
  const shape = manifestShape(parsed);
  if (shape !== undefined) return fail(`${MANIFEST_FILE} ${shape}`);
  const manifest = parsed as SnapshotManifest;

  const named = new Uint8Array(Buffer.from(manifest.collector.public_key, 'base64'));
  if (named.length !== PUBLIC_KEY_BYTES) problems.push('collector.public_key in the manifest is not a 32-byte ed25519 key');
  const key = options.publicKey ?? named;
  if (options.publicKey !== undefined && !bytesEqual(options.publicKey, named)) {
    problems.push(`the manifest names key ${named.length === PUBLIC_KEY_BYTES ? keyFingerprint(named) : '(invalid)'}, not the key given (${keyFingerprint(options.publicKey)})`);
  }
  const signature = new Uint8Array(Buffer.from(signatureText, 'base64'));
  const signatureValid = signature.length === SIGNATURE_BYTES && key.length === PUBLIC_KEY_BYTES && verifyBytes(key, manifestBytes, signature);
  if (!signatureValid) problems.push(`the signature in ${SIGNATURE_FILE} does not verify over ${MANIFEST_FILE} with ${keySource === 'given' ? 'the key given' : "the manifest's key"}`);

  const files: FileCheck[] = [];
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.name);
    if (!isPlainFileName(f.name)) {
      files.push({ name: f.name, ok: false, problem: 'not a plain file name' });
      continue;
    }
    const path = join(dir, f.name);
    let info;
    try {
      info = await stat(path);
    } catch {
      files.push({ name: f.name, ok: false, problem: 'missing' });
      continue;
    }
    if (!info.isFile()) {
      files.push({ name: f.name, ok: false, problem: 'not a regular file' });
      continue;
    }
    const actual = await sha256File(path);
    if (actual.bytes !== f.bytes) files.push({ name: f.name, ok: false, problem: `${actual.bytes} bytes, the manifest says ${f.bytes}` });
    else if (actual.sha256 !== f.sha256.toLowerCase()) files.push({ name: f.name, ok: false, problem: `SHA-256 ${actual.sha256} differs from the manifest's ${f.sha256}` });
    else files.push({ name: f.name, ok: true });
  }
  for (const f of files) if (!f.ok) problems.push(`${f.name}: ${f.problem ?? 'invalid'}`);
  const unlisted = (await readdir(dir)).filter((n) => n !== MANIFEST_FILE && n !== SIGNATURE_FILE && !listed.has(n)).sort();

  let measurements: ProofVerification | undefined;
  if (options.measurements === true) {
    const jsonl = manifest.files.find((f) => f.format === 'jsonl' && isPlainFileName(f.name));
    if (jsonl === undefined) {
      problems.push('no JSON Lines file to check measurement proofs in');
    } else {
      // The lines are sealed with the key that signs the manifest; version 2 names the seal.
      const expected = typeof jsonl.export_id === 'string' ? { exportId: jsonl.export_id, exportRoot: jsonl.export_root ?? null, rows: jsonl.rows } : undefined;
      measurements = await verifyJsonlProofs(join(dir, jsonl.name), { publicKey: key, ...(expected === undefined ? {} : { expected }) });
      const total = measurements.failures.length + measurements.moreFailures;
      if (total > 0) problems.push(`${total} problem(s) with the measurements of ${jsonl.name}`);
      for (const p of measurements.seals.problems) problems.push(`${jsonl.name}: ${p}`);
      if (measurements.measurements !== jsonl.rows) problems.push(`${jsonl.name} holds ${measurements.measurements} measurements, the manifest says ${jsonl.rows}`);
    }
  }
  return {
    ok: problems.length === 0,
    problems,
    manifest,
    signatureValid,
    keySource,
    keyFingerprint: key.length === PUBLIC_KEY_BYTES ? keyFingerprint(key) : undefined,
    files,
    unlisted,
    ...(measurements === undefined ? {} : { measurements }),
  };
}
