/**
 * A tiny static server for the demo on 127.0.0.1. `--isolated` adds the two headers that make
 * the page cross-origin isolated (SharedArrayBuffer, so the wasm backend gets threads);
 * without it the page is an ordinary one and trains single-threaded. `--port N` (default 8080;
 * 0 picks a free one). Tests import startServer.
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json', '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png' };
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Starts the server; resolves with its URL and a close function. */
export function startServer({ isolated = false, port = 8080, root = ROOT } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const headers = isolated ? { ...ISOLATION_HEADERS } : {};
    if (!file.startsWith(root)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, headers).end(`not found: ${path} (built? npm run demo:build)`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}/`;
      resolve({ url, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const args = process.argv.slice(2);
  const isolated = args.includes('--isolated');
  const i = args.indexOf('--port');
  const port = i >= 0 ? Number(args[i + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.mjs: --port must be 0–65535, got ${args[i + 1]}`);
    process.exit(2);
  }
  startServer({ isolated, port }).then(
    ({ url }) => console.log(`gradkit demo at ${url} (${isolated ? 'cross-origin isolated: threads' : 'not isolated: single-threaded; --isolated for threads'})`),
    (e) => {
      console.error(`serve.mjs: cannot listen on 127.0.0.1:${port}: ${e.message}`);
      process.exit(1);
    },
  );
}
