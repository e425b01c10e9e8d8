import { parentPort, workerData } from 'node:worker_threads';
import { SqliteCommits, WRITE_OPS, type WriteOp } from './sqlite-commits.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { type WriterConfig, type WriterReply, type WriterRequest } from './worker-write-channel.js';
import { runWriteOp, toWireError } from './write-channel.js';
import { WRITER_PROTOCOL } from './write-job.js';

// The SQLite store's writer thread (worker-write-channel.ts): owns the one
// connection that writes, runs each request as one transaction in the
// order received, and answers only once it committed. A request it cannot
// run is answered with a coded error; the thread itself only ends on
// `close` (or a crash, which the store turns into STEPPE_ERR_STORAGE for
// every write in flight).

const port = parentPort;
if (port === null) throw new Error('sqlite-writer-thread.js runs as a worker thread');
const config = workerData as WriterConfig;

function start(): SqliteCommits | undefined {
  if (config.protocol !== WRITER_PROTOCOL) {
    port?.postMessage({ fatal: { code: 'STEPPE_ERR_STORAGE', message: `the SQLite writer thread speaks protocol ${WRITER_PROTOCOL}, the store ${config.protocol}: a stale build (run npm run build)` } });
    return undefined;
  }
  try {
    const commits = new SqliteCommits(openSqliteConnection(config.path, config.cacheMiB), config);
    port?.postMessage({ ready: true });
    return commits;
  } catch (err) {
    port?.postMessage({ fatal: toWireError(err) });
    return undefined;
  }
}

const commits = start();
if (commits === undefined) {
  port.close();
} else {
  port.on('message', (req: WriterRequest) => {
    let reply: WriterReply;
    if (req.op === 'close') {
      try {
        commits.close();
        reply = { id: req.id, ok: true, value: undefined, returned: [] };
      } catch (err) {
        reply = { id: req.id, ok: false, error: toWireError(err), returned: [] };
      }
      port.postMessage(reply);
      port.close();
      return;
    }
    if (req.op === 'crash') process.exit(70); // test hook: as a fatal error would end the thread
    if (!WRITE_OPS.includes(req.op as WriteOp)) {
      port.postMessage({ id: req.id, ok: false, error: { code: 'STEPPE_ERR_INTERNAL', message: `unknown writer operation ${String(req.op)}` }, returned: [] });
      return;
    }
    // The job's buffer goes back with the answer, for the next job (write-job.ts,
    // JobBuffers): the transaction is over, nothing refers to it any more.
    const returned = req.transfer ?? [];
    try {
      const value = runWriteOp(commits, req.op as WriteOp, req.args as never);
      reply = { id: req.id, ok: true, value, returned };
    } catch (err) {
      reply = { id: req.id, ok: false, error: toWireError(err), returned };
    }
    port.postMessage(reply, returned as ArrayBuffer[]);
  });
}
