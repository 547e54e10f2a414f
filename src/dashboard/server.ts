/**
 * The dashboard's HTTP server (Node's http, no framework). It serves three fixed page files from
 * the build folder (scripts/build-dashboard.mjs) and a read-only JSON API over the runs folder:
 *
 *   GET /api/runs                          the runs and tune studies, with status and best metric
 *   GET /api/runs/<run>/<metrics|record|trials|config|summary|analysis|space>
 *   GET /api/runs/<run>/misclassified/<file>.png
 *   GET /api/events                        server-sent events: 'runs' when the list changes,
 *                                          'metrics' { run, lines } as metrics.jsonl files grow
 *
 * Nothing else is reachable: URL segments are checked one by one after decoding (no '..', no
 * encoded separators), real paths must stay inside the runs folder (symlinks out are refused),
 * and on a loopback address requests whose Host header names another host are refused (DNS
 * rebinding). Only GET and HEAD.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GradkitError } from '../core/errors.js';
import { isSafeName, listRuns, parseJsonl, resolveInside, RUN_FILES } from './runs.js';

export interface DashboardOptions {
  runsDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built page (default build/dashboard in the package). */
  staticDir?: string;
  /** How often followed files are checked for new lines (default 500 ms). */
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

// build/dashboard/ sits at the package root: two folders up from src/dashboard/ (sources run with
// tsx) and three from dist/src/dashboard/ (the compiled package).
export const DEFAULT_STATIC_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/src/') ? '../../../build/dashboard/' : '../../build/dashboard/', import.meta.url),
);

const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

function headers(type: string): http.OutgoingHttpHeaders {
  return {
    'content-type': type,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
  };
}

function send(res: http.ServerResponse, status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, headers(type));
  res.end(body);
}

const json = (res: http.ServerResponse, value: unknown): void => send(res, 200, JSON.stringify(value), TYPES['.json']);

/**
 * The decoded path segments of a request, or null for anything suspicious: a segment that
 * decodes to a separator, a NUL, '.', '..' or invalid percent-encoding.
 */
export function pathSegments(rawUrl: string): string[] | null {
  const q = rawUrl.indexOf('?');
  const raw = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (!raw.startsWith('/') || raw.includes('\\')) return null;
  const out: string[] = [];
  for (const part of raw.split('/').slice(1)) {
    let s: string;
    try {
      s = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return null;
    out.push(s);
  }
  return out;
}

/** Starts the server; resolves once it listens. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const op = 'gradkit dashboard';
  const runsDir = path.resolve(opts.runsDir);
  if (!fs.existsSync(runsDir) || !fs.statSync(runsDir).isDirectory()) throw new GradkitError(op, `${runsDir} is not a folder; give the folder that holds your run folders (default: runs)`);
  const staticDir = opts.staticDir ?? DEFAULT_STATIC_DIR;
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) throw new GradkitError(op, `the dashboard page is not built (${path.join(staticDir, 'index.html')} is missing); run npm run build:dashboard`);
  const host = opts.host ?? '127.0.0.1';
  const pollMs = opts.pollMs ?? 500;
  const streams = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    if (isLoopback(host)) {
      const h = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(h)) return send(res, 403, 'forbidden host\n');
    }
    const url = req.url ?? '/';
    const staticName = STATIC[url.split('?')[0]];
    if (staticName !== undefined) {
      const file = path.join(staticDir, staticName);
      if (!fs.existsSync(file)) return send(res, 404, 'not found\n');
      return send(res, 200, fs.readFileSync(file), TYPES[path.extname(file)]);
    }
    const seg = pathSegments(url);
    if (seg === null) return send(res, 400, 'bad path\n');
    if (seg[0] !== 'api') return send(res, 404, 'not found\n');
    if (seg.length === 2 && seg[1] === 'runs') return json(res, listRuns(runsDir));
    if (seg.length === 2 && seg[1] === 'events') return events(req, res);
    if (seg[1] === 'runs' && seg.length === 4 && isSafeName(seg[2]) && RUN_FILES[seg[3]] !== undefined) {
      const file = resolveInside(runsDir, seg[2], RUN_FILES[seg[3]]);
      if (file === null) return send(res, 404, 'not found\n');
      const text = fs.readFileSync(file, 'utf8');
      return json(res, file.endsWith('.jsonl') ? parseJsonl(text) : JSON.parse(text));
    }
    if (seg[1] === 'runs' && seg.length === 5 && seg[3] === 'misclassified' && /^[A-Za-z0-9_-]+\.png$/.test(seg[4])) {
      const file = resolveInside(runsDir, seg[2], 'misclassified', seg[4]);
      if (file === null) return send(res, 404, 'not found\n');
      return send(res, 200, fs.readFileSync(file), TYPES['.png']);
    }
    return send(res, 404, 'not found\n');
  };

  /** Server-sent events: new metrics lines of every run, and the run list when it changes. */
  const events = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { ...headers('text/event-stream'), connection: 'keep-alive' });
    streams.add(res);
    const offsets = new Map<string, number>();
    let listKey = '';
    const tick = (first: boolean): void => {
      const runs = listRuns(runsDir);
      const key = JSON.stringify(runs.map((r) => [r.name, r.status, r.epochs, r.hasAnalysis, r.hasRecord]));
      if (key !== listKey) {
        listKey = key;
        res.write(`event: runs\ndata: ${JSON.stringify(runs)}\n\n`);
      }
      for (const r of runs) {
        if (r.kind !== 'run') continue;
        const file = resolveInside(runsDir, r.name, 'metrics.jsonl');
        if (file === null) continue;
        const size = fs.statSync(file).size;
        const from = offsets.get(r.name);
        if (from === undefined) {
          // Runs there at connect start at their end (the page loads history through the API);
          // a run that appears later is sent from its first line.
          offsets.set(r.name, first ? size : 0);
          if (first) continue;
        } else if (size < from) {
          offsets.set(r.name, 0); // the log was cut back (a resumed run): send it again
        }
        const start = offsets.get(r.name)!;
        if (size <= start) continue;
        const buf = Buffer.alloc(size - start);
        const fd = fs.openSync(file, 'r');
        try {
          fs.readSync(fd, buf, 0, buf.length, start);
        } finally {
          fs.closeSync(fd);
        }
        // Only whole lines: a line being written is sent on a later tick.
        const end = buf.lastIndexOf(10);
        if (end < 0) continue;
        offsets.set(r.name, start + end + 1);
        const lines = parseJsonl(buf.subarray(0, end + 1).toString('utf8'));
        if (lines.length > 0) res.write(`event: metrics\ndata: ${JSON.stringify({ run: r.name, lines })}\n\n`);
      }
    };
    tick(true);
    res.write('event: hello\ndata: {}\n\n');
    const timer = setInterval(() => {
      try {
        tick(false);
      } catch (e) {
        res.write(`event: error\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
      }
    }, pollMs);
    timers.add(timer);
    req.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
      streams.delete(res);
    });
  };

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, `error: ${(e as Error).message}\n`);
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new GradkitError(op, `cannot listen on ${host}:${opts.port ?? 0}: ${e.code === 'EADDRINUSE' ? 'the port is in use; choose another with --port' : e.message}`)));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
