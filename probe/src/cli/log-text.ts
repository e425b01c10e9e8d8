import type { LogValue, MessageValues, Translator } from '@steppe/shared';

/**
 * The daemon log's human sentence (`msg`): the message `log.<event>` of the
 * probe catalog, with the line's plain fields as its values (lists joined
 * with commas; objects left out). Events without a message get no `msg`.
 */
export function logDescriber(tr: Translator): (event: string, fields: Readonly<Record<string, LogValue>>) => string | undefined {
  return (event: string, fields: Readonly<Record<string, LogValue>>) => {
    const key = `log.${event}`;
    if (!tr.has(key)) return undefined;
    const values: MessageValues = {};
    for (const [name, value] of Object.entries(fields)) {
      if (Array.isArray(value)) values[name] = value.join(', ');
      else if (value === null || typeof value !== 'object') values[name] = value;
    }
    return tr.t(key, values);
  };
}
