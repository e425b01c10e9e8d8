import type { Database, Statement } from 'better-sqlite3';
import type { EventInput, StoredEvent } from './store.js';

interface EventRow {
  event_id: number;
  name: string;
  start_ms: number;
  end_ms: number | null;
  time_zone: string;
  description: string;
  source_url: string | null;
  created_ms: number;
  origin: string;
}

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.event_id,
    name: r.name,
    startMs: r.start_ms,
    endMs: r.end_ms,
    timeZone: r.time_zone,
    description: r.description,
    sourceUrl: r.source_url,
    createdMs: r.created_ms,
    origin: r.origin === 'seed' ? 'seed' : 'admin',
  };
}

const COLUMNS = 'event_id, name, start_ms, end_ms, time_zone, description, source_url, created_ms, origin';

/** Curated events. Validation of the fields is the caller's (timeline/events.ts). */
export class EventTable {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #insertIfNew: Statement;
  readonly #update: Statement;
  readonly #delete: Statement<[number]>;
  readonly #get: Statement<[number], EventRow>;
  readonly #list: Statement<[number, number], EventRow>;

  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(`INSERT INTO events (name, start_ms, end_ms, time_zone, description, source_url, created_ms, origin)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`);
    this.#insertIfNew = db.prepare(`INSERT INTO events (name, start_ms, end_ms, time_zone, description, source_url, created_ms, origin)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'seed') ON CONFLICT (name, start_ms) DO NOTHING`);
    this.#update = db.prepare(`UPDATE events SET name = ?, start_ms = ?, end_ms = ?, time_zone = ?, description = ?, source_url = ?
      WHERE event_id = ? RETURNING ${COLUMNS}`);
    this.#delete = db.prepare('DELETE FROM events WHERE event_id = ?');
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM events WHERE event_id = ?`);
    // Overlap of [start, end or forever) with [since, until).
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM events
      WHERE start_ms < ? AND (end_ms IS NULL OR end_ms > ?) ORDER BY start_ms, event_id`);
  }

  add(e: EventInput, nowMs: number, origin: StoredEvent['origin']): StoredEvent {
    const row = this.#insert.get(e.name, e.startMs, e.endMs, e.timeZone, e.description, e.sourceUrl, nowMs, origin) as EventRow;
    return toEvent(row);
  }

  seed(events: readonly EventInput[], nowMs: number): number {
    return this.#db.transaction(() => {
      let added = 0;
      for (const e of events) added += this.#insertIfNew.run(e.name, e.startMs, e.endMs, e.timeZone, e.description, e.sourceUrl, nowMs).changes;
      return added;
    })();
  }

  update(id: number, e: EventInput): StoredEvent | undefined {
    const row = this.#update.get(e.name, e.startMs, e.endMs, e.timeZone, e.description, e.sourceUrl, id) as EventRow | undefined;
    return row === undefined ? undefined : toEvent(row);
  }

  delete(id: number): boolean {
    return this.#delete.run(id).changes > 0;
  }

  get(id: number): StoredEvent | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : toEvent(row);
  }

  list(range: { readonly since?: number; readonly until?: number } = {}): StoredEvent[] {
    return this.#list.all(range.until ?? Number.MAX_SAFE_INTEGER, range.since ?? Number.MIN_SAFE_INTEGER).map(toEvent);
  }
}
