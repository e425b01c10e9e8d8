import type { JsonLog } from '@steppe/shared';
import type { CollectorLogEvent } from '../collector-app.js';

/** Write a running collector's events to its JSON log (never an address: none is in them). */
export function logCollectorEvent(log: JsonLog, e: CollectorLogEvent): void {
  switch (e.event) {
    case 'ingest': {
      const d = e.detail;
      if (d.type === 'hello') log.info('probe_connected', { probe_id: d.probeId, registered: d.registered, asn: d.asn, cc: d.cc });
      else if (d.type === 'rejected') log.warn('probe_rejected', { probe_id: d.probeId ?? null, code: d.code, message: d.message });
      else log.error('storage_error', { probe_id: d.probeId, message: d.message });
      return;
    }
    case 'geo_ready':
      log.info('geo_ready', { ms: e.ms });
      return;
    case 'geo_failed':
      log.warn('geo_failed', { message: e.message });
      return;
    case 'events_seeded':
      log.info('events_seeded', { added: e.added });
      return;
  }
}
