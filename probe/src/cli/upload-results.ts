import { join } from 'node:path';
import { type Measurement, type MeasurementProps, encodeMeasurement, idToString, measurementProblem, wire } from '@steppe/shared';
import { secureDataDir } from '../data-dir/file-modes.js';
import { loadOrCreateIdentity } from '../identity/identity.js';
import { Outbox } from '../outbox/outbox.js';
import { Uplink, type UplinkOptions } from '../uplink/uplink.js';

/** File name of the outbox database inside the probe's data directory. */
export const OUTBOX_FILE_NAME = 'outbox.sqlite';

/** Options of {@link uploadMeasurements}. */
export interface UploadMeasurementsOptions {
  readonly dataDir: string;
  /** Collector base URLs (http(s)://host:port), tried in order. */
  readonly collectors: readonly string[];
  readonly measurements: readonly (Measurement | MeasurementProps)[];
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Progress and the final summary go here (human-readable lines). */
  readonly stderr: NodeJS.WritableStream;
  /** Further uplink settings (proxy, pins, enrollment token, local address...). */
  readonly uplink?: Omit<UplinkOptions, 'collectors' | 'identity' | 'outbox'>;
}

/** What an upload run achieved. */
export interface UploadMeasurementsResult {
  /** Measurements the collector acknowledged during this run (this run's and older queued ones). */
  readonly acked: number;
  /** Measurements left in the outbox. */
  readonly pending: number;
  /** Measurements refused before queueing because they failed validation (each named on stderr). */
  readonly invalid: number;
}

/**
 * What `steppe-probe measure --collector URL[,URL...]` calls after measuring:
 * commits every measurement to the outbox in `dataDir` (one transaction,
 * before any network activity), then uploads everything queued and returns
 * once all is acknowledged, or after `timeoutMs` / on abort, leaving the rest
 * in the outbox and saying so on `stderr`. A measurement without a probe id
 * gets this probe's; one naming another probe is refused.
 */
export async function uploadMeasurements(options: UploadMeasurementsOptions): Promise<UploadMeasurementsResult> {
  const { stderr } = options;
  secureDataDir(options.dataDir);
  const identity = loadOrCreateIdentity(options.dataDir);
  const outbox = Outbox.open(join(options.dataDir, OUTBOX_FILE_NAME));
  try {
    let invalid = 0;
    const items = [];
    for (const props of options.measurements) {
      // A copy through the wire form: the caller's object is never modified.
      const m = wire.Measurement.decode(encodeMeasurement(props));
      if (m.probeId === '') m.probeId = identity.probeId;
      const idText = m.id.length === 16 ? idToString(m.id) : '(no id)';
      const problem = m.probeId !== identity.probeId ? `names probe ${m.probeId}, not this probe (${identity.probeId})` : measurementProblem(m);
      if (problem !== undefined) {
        invalid += 1;
        stderr.write(`steppe-probe: measurement ${idText} not queued for upload: ${problem}\n`);
        continue;
      }
      items.push({ id: m.id, startTimeMs: m.startTimeMs, bytes: encodeMeasurement(m) });
    }
    outbox.enqueueMany(items);
    outbox.on('dropped', (e) => {
      stderr.write(`steppe-probe: outbox cap (${e.reason}) dropped ${e.count} oldest measurement(s), ${e.bytes} bytes\n`);
    });

    const uplink = new Uplink({ ...options.uplink, collectors: options.collectors, identity, outbox });
    let lastProblem = '';
    uplink.on('error', (e) => {
      lastProblem = `${e.url}: ${e.code}${e.message !== '' && e.message !== e.code ? ` (${e.message})` : ''}`;
    });
    uplink.on('dropped', (e) => {
      if (e.reason === 'rejected_by_collector') stderr.write(`steppe-probe: the collector rejected a measurement; it is kept aside in the outbox: ${e.message}\n`);
    });
    let result;
    try {
      result = await uplink.flush({ timeoutMs: options.timeoutMs, signal: options.signal });
    } finally {
      await uplink.close();
    }
    if (result.pending === 0) {
      stderr.write(`steppe-probe: uploaded: ${result.acked} measurement(s) acknowledged by the collector\n`);
    } else {
      const why = options.signal.aborted ? 'interrupted' : `not all acknowledged within ${options.timeoutMs} ms`;
      stderr.write(`steppe-probe: ${why}: ${result.acked} acknowledged, ${result.pending} left in the outbox ${outbox.path}` +
        `${lastProblem !== '' ? ` (last problem: ${lastProblem})` : ''}; they will be sent by the next run or the daemon\n`);
    }
    return { acked: result.acked, pending: result.pending, invalid };
  } finally {
    outbox.close();
  }
}
