import { InvalidArgumentError } from '@steppe/shared';
import type { MeasurementFilter } from './store.js';

/** A WHERE clause and its bound values; column names are ours, values always bound. */
export interface SqlWhere {
  readonly sql: string;
  readonly params: (string | number)[];
}

function inList(column: string, values: readonly (string | number)[], clauses: string[], params: (string | number)[]): void {
  if (values.length === 0) {
    clauses.push('0'); // an empty list matches nothing
    return;
  }
  clauses.push(`${column} IN (${values.map(() => '?').join(', ')})`);
  params.push(...values);
}

/** The WHERE clause (without the keyword) for a measurement filter over `m.` columns. */
export function measurementWhere(filter: MeasurementFilter): SqlWhere {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.since !== undefined) {
    clauses.push('m.start_ms >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push('m.start_ms < ?');
    params.push(filter.until);
  }
  if (filter.receivedBefore !== undefined) {
    clauses.push('m.received_ms < ?');
    params.push(filter.receivedBefore);
  }
  if (filter.probeAsns !== undefined) inList('m.asn', filter.probeAsns, clauses, params);
  if (filter.probeCcs !== undefined) inList('m.cc', filter.probeCcs, clauses, params);
  if (filter.domains !== undefined) inList('m.domain', filter.domains, clauses, params);
  if (filter.inputs !== undefined) inList('m.input', filter.inputs, clauses, params);
  if (filter.categoryCodes !== undefined) inList('m.category_code', filter.categoryCodes, clauses, params);
  if (filter.testNames !== undefined) inList('m.test_name', filter.testNames, clauses, params);
  if (filter.verdicts !== undefined) inList('m.verdict', filter.verdicts, clauses, params);
  if (filter.blockingTypes !== undefined) inList('m.blocking_type', filter.blockingTypes, clauses, params);
  if (filter.failures !== undefined) inList('m.failure', filter.failures, clauses, params);
  if (filter.sources !== undefined) inList('m.source', filter.sources, clauses, params);
  // `+m.anomaly`: the unary plus keeps the planner from wanting an index on a boolean.
  if (filter.anomaly !== undefined) {
    clauses.push('+m.anomaly = ?');
    params.push(filter.anomaly ? 1 : 0);
  }
  if (filter.confirmed !== undefined) {
    clauses.push('+m.confirmed = ?');
    params.push(filter.confirmed ? 1 : 0);
  }
  if (filter.failed !== undefined) clauses.push(filter.failed ? 'm.failure IS NOT NULL' : 'm.failure IS NULL');
  return { sql: clauses.length === 0 ? '1' : clauses.join(' AND '), params };
}

/** A position in a listing ordered by (start_ms, seq). */
export interface CursorPosition {
  readonly order: 'asc' | 'desc';
  readonly startMs: number;
  readonly seq: number;
}

/** Opaque text form of a cursor. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.order === 'asc' ? 'a' : 'd'}.${position.startMs}.${position.seq}`, 'utf8').toString('base64url');
}

/** Parse a cursor made by encodeCursor; throws InvalidArgumentError on anything else. */
export function decodeCursor(text: string, order: 'asc' | 'desc'): CursorPosition {
  const plain = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const m = /^([ad])\.(-?\d{1,16})\.(\d{1,16})$/.exec(plain);
  if (m === null) throw new InvalidArgumentError('cursor: not a cursor this collector issued');
  const cursorOrder = m[1] === 'a' ? 'asc' : 'desc';
  if (cursorOrder !== order) throw new InvalidArgumentError(`cursor: issued for order ${cursorOrder}, not ${order}`);
  return { order, startMs: Number(m[2]), seq: Number(m[3]) };
}
