import type { MeasurementProof } from '../store/store.js';
import { type ByteWriter, jsonNumberBytes, jsonStringBytes } from './byte-writer.js';
import { decodeStored, type ProvenRow } from './export-row.js';
import { UnsupportedSchemaError, measurementJsonPlan } from './json-plan.js';
import { IsoTimes, MeasurementTranscoder, startTimeJson } from './measurement-transcoder.js';
import { type ProofWriter, STEPPE_JSONL_SCHEMA_VERSION, batchIdOf, steppeJsonLine } from './steppe-jsonl.js';

const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/** The parts of a proof's JSON that are the same for every line of its batch. */
interface ProofParts {
  /** `,"batch_id":"…","batch_sequence":N` */
  readonly id: Buffer;
  readonly batchId: string;
  /** `,"batch_header":"…","signature":"…","public_key":"…"` */
  readonly header: Buffer;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Writes JSON Lines in Steppe's schema (steppeJsonLine) straight into a
 * ByteWriter: the measurement through the wire-to-JSON transcoder, the
 * collector's columns and the proof around it. Byte for byte the text of
 * `steppeJsonLine(row, decodeStored(row), proofs)` (a test compares whole
 * exports); a measurement the transcoder gives up on goes through
 * steppeJsonLine itself.
 */
export class SteppeLineWriter {
  readonly #proofs: ProofWriter;
  readonly #transcoder: MeasurementTranscoder | undefined;
  readonly #overrides: (Uint8Array | undefined)[] = [];
  readonly #asn: number;
  readonly #cc: number;
  readonly #network: number;
  readonly #startTimes = new IsoTimes();
  readonly #receivedTimes = new IsoTimes();
  readonly #proofParts = new WeakMap<MeasurementProof, ProofParts>();
  /** Lines written by the transcoder / by the reference path. */
  fast = 0;
  slow = 0;

  constructor(proofs: ProofWriter) {
    this.#proofs = proofs;
    const plan = measurementJsonPlan();
    this.#transcoder = plan instanceof UnsupportedSchemaError ? undefined : new MeasurementTranscoder(plan);
    this.#asn = this.#transcoder?.rootFieldIndex('probe_asn') ?? -1;
    this.#cc = this.#transcoder?.rootFieldIndex('probe_cc') ?? -1;
    this.#network = this.#transcoder?.rootFieldIndex('probe_network_name') ?? -1;
  }

  /**
   * Append one line (with its newline); `collectorProof` is the line's
   * `collector_proof` as JSON text (ExportSealer), null when not given.
   * Throws as steppeJsonLine does on bytes that do not decode.
   */
  write(out: ByteWriter, row: ProvenRow, collectorProof?: string): void {
    if (!this.#fast(out, row, collectorProof)) {
      this.slow += 1;
      out.utf8(steppeJsonLine(row, decodeStored(row), this.#proofs, collectorProof));
    } else {
      this.fast += 1;
    }
  }

  #fast(out: ByteWriter, row: ProvenRow, collectorProof: string | undefined): boolean {
    const t = this.#transcoder;
    if (t === undefined || this.#asn < 0 || this.#cc < 0 || this.#network < 0) return false;
    const received = this.#receivedTimes.iso(row.receivedMs);
    if (received === undefined) return false;
    const overrides = this.#overrides;
    overrides[this.#asn] = jsonNumberBytes(row.asn);
    overrides[this.#cc] = jsonStringBytes(row.cc);
    overrides[this.#network] = jsonStringBytes(row.networkName);
    const mark = out.pos;
    if (!t.writeMembers(out, row.raw, overrides)) {
      out.pos = mark;
      return false;
    }
    const start = startTimeJson(t.facts.startTimeMs, this.#startTimes);
    if (start === undefined) {
      out.pos = mark;
      return false;
    }
    out.ascii(',"verdict":');
    out.bytes(jsonStringBytes(row.verdict));
    out.ascii(',"anomaly":');
    out.bytes(row.anomaly ? TRUE : FALSE);
    out.ascii(',"confirmed":');
    out.bytes(row.confirmed ? TRUE : FALSE);
    out.ascii(',"failure":');
    out.bytes(row.failure === null ? NULL : jsonStringBytes(row.failure));
    out.ascii(',"start_time":');
    out.ascii(start);
    out.ascii(`,"schema_version":${STEPPE_JSONL_SCHEMA_VERSION},"blocking_type":`);
    out.bytes(jsonStringBytes(row.blockingType));
    out.ascii(',"fingerprint_id":');
    out.bytes(row.fingerprintId === null ? NULL : jsonStringBytes(row.fingerprintId));
    out.ascii(',"source":');
    out.bytes(jsonStringBytes(row.source));
    out.ascii(',"received_time":"');
    out.ascii(received);
    out.ascii('","report_id":');
    out.bytes(row.reportId === null ? NULL : jsonStringBytes(row.reportId));
    out.ascii(',"ooni":');
    if (row.ooni === null) {
      out.bytes(NULL);
    } else {
      out.ascii('{"blocking":');
      out.bytes(row.ooni.blocking === null ? NULL : jsonStringBytes(row.ooni.blocking));
      out.ascii(',"accessible":');
      out.bytes(row.ooni.accessible === null ? NULL : row.ooni.accessible ? TRUE : FALSE);
      out.byte(0x7d);
    }
    out.ascii(',"proof":');
    const proof = row.proof;
    if (proof === null) {
      out.ascii('null,"raw":"');
      out.ascii(base64(row.raw));
      out.ascii('","collector_proof":');
    } else {
      const parts = this.#parts(proof);
      out.ascii('{"measurement":"');
      out.ascii(base64(row.raw));
      out.byte(0x22);
      out.bytes(parts.id);
      if (this.#proofs.claimHeader(parts.batchId)) out.bytes(parts.header);
      out.ascii('},"raw":null,"collector_proof":');
    }
    // ExportSealer's text is ASCII (base64, digits, punctuation).
    if (collectorProof === undefined) out.bytes(NULL);
    else out.ascii(collectorProof);
    out.ascii('}\n');
    return true;
  }

  #parts(proof: MeasurementProof): ProofParts {
    let parts = this.#proofParts.get(proof);
    if (parts === undefined) {
      const batchId = batchIdOf(proof.signature);
      parts = {
        batchId,
        id: Buffer.from(`,"batch_id":${JSON.stringify(batchId)},"batch_sequence":${JSON.stringify(proof.sequence)}`, 'utf8'),
        header: Buffer.from(`,"batch_header":"${base64(proof.header)}","signature":"${base64(proof.signature)}","public_key":"${base64(proof.publicKey)}"`, 'latin1'),
      };
      this.#proofParts.set(proof, parts);
    }
    return parts;
  }
}
