import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, SteppeError } from '@steppe/shared';

/** What a route handler gets. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Path parameters (`:id` in the pattern). */
  readonly params: Readonly<Record<string, string>>;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

/** An error a handler throws to answer with an HTTP status and a coded JSON body. */
export class HttpError extends SteppeError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** 400 naming the bad parameter. */
export function badParameter(name: string, expected: string, got: string | null): HttpError {
  return new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', `parameter "${name}": expected ${expected}, got ${got === null ? 'nothing' : JSON.stringify(got.slice(0, 80))}`);
}

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: Handler;
}

/**
 * A small method + path router. Patterns are literal segments and `:name`
 * parameters; no regular expressions, so a path never costs more than its
 * segments to match.
 */
export class Router {
  readonly #routes: Route[] = [];

  add(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD', pattern: string, handler: Handler): this {
    this.#routes.push({ method, parts: pattern.split('/').filter((p) => p.length > 0), handler });
    return this;
  }

  /** The routes registered, in order (documentation checks use it). */
  routes(): { method: string; pattern: string }[] {
    return this.#routes.map((r) => ({ method: r.method, pattern: `/${r.parts.join('/')}` }));
  }

  /** Handle a request; resolves false when no route matched the path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://collector.invalid');
    const segments = url.pathname.split('/').filter((p) => p.length > 0).map(safeDecode);
    let pathMatched = false;
    for (const route of this.#routes) {
      const params = match(route.parts, segments);
      if (params === undefined) continue;
      pathMatched = true;
      const method = req.method === 'HEAD' && route.method === 'GET' ? 'GET' : req.method;
      if (method !== route.method) continue;
      try {
        await route.handler({ req, res, url, params });
      } catch (err) {
        sendError(res, err);
      }
      return true;
    }
    if (pathMatched) {
      sendJson(res, 405, { error: { code: 'STEPPE_ERR_INVALID_ARGUMENT', message: `method ${req.method ?? ''} not allowed here` } });
      return true;
    }
    return false;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function match(parts: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const seg = segments[i] ?? '';
    if (part.startsWith(':')) params[part.slice(1)] = seg;
    else if (part !== seg) return undefined;
  }
  return params;
}

/** Send a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answer with the status and coded body of an error; 500 for anything unexpected. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: { code: err.code, message: err.message } });
  } else if (err instanceof SteppeError) {
    sendJson(res, 400, { error: { code: err.code, message: err.message } });
  } else {
    sendJson(res, 500, { error: { code: 'STEPPE_ERR_INTERNAL', message: 'internal error' } });
  }
}

/** Read a request body up to `limit` bytes; 413 beyond it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new HttpError(413, 'STEPPE_ERR_TOO_LARGE', `request body exceeds ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Read and parse a JSON request body; 400 with the parse error otherwise. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', `request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
