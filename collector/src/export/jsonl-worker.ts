import { parentPort } from 'node:worker_threads';
import { type JsonlPage, PageWriter } from './jsonl-page.js';

// Worker thread of JsonlWorkerPool (jsonl-pool.ts): turns pages of stored
// rows into JSON Lines bytes. One page at a time, in the order received.

interface Job {
  readonly id: number;
  readonly page: JsonlPage;
}

const port = parentPort;
if (port === null) throw new Error('jsonl-worker.js runs as a worker thread');
const writer = new PageWriter();

port.on('message', (job: Job) => {
  try {
    const bytes = writer.write(job.page);
    // The line buffer is this page's alone: hand it over without a copy.
    port.postMessage({ id: job.id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
