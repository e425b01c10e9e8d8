import { createInterface } from 'node:readline';
import { CONSENT_ANSWERS } from './notice.js';

/** True when `answer` accepts the notice: "yes", «да» or «иә», any case, spaces around ignored. */
export function isConsentAnswer(answer: string): boolean {
  return CONSENT_ANSWERS.includes(answer.normalize('NFC').trim().toLowerCase());
}

/**
 * Ask for the answer to the notice on a terminal (writing `prompt`) and
 * resolve to true only when the operator typed an accepting answer
 * (isConsentAnswer). Anything else, end of input, or `signal` aborting
 * resolves to false: the default is always "no".
 */
export async function askForConsent(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  signal?: AbortSignal,
  prompt = 'Type "yes" to accept: ',
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
      output.write(prompt);
    });
    return answer !== undefined && isConsentAnswer(answer);
  } finally {
    rl.close();
  }
}
