import { createInterface } from 'node:readline';
import { CONSENT_ANSWER } from './notice.js';

/**
 * Ask for the answer to the notice on a terminal and resolve to true only
 * when the operator typed "yes" (any case, surrounding spaces ignored).
 * Anything else, end of input, or `signal` aborting resolves to false: the
 * default is always "no".
 */
export async function askForConsent(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      if (signal?.aborted === true) {
        resolve(undefined);
        return;
      }
      signal?.addEventListener('abort', () => resolve(undefined), { once: true });
      rl.once('line', (line) => resolve(line));
      rl.once('close', () => resolve(undefined));
      output.write(`Type "${CONSENT_ANSWER}" to accept: `);
    });
    return answer !== undefined && answer.trim().toLowerCase() === CONSENT_ANSWER;
  } finally {
    rl.close();
  }
}
