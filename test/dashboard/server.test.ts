import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDashboard, pathSegments, type Dashboard } from '../../src/dashboard/server.js';
import { epochLine, makeRunsFolder } from './fixture.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const STATIC = path.join(ROOT, 'build/dashboard');

let d: Dashboard;
let fx: ReturnType<typeof makeRunsFolder>;

before(async () => {
  // npm test builds the page in pretest; a lone run of this file builds it here.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-dashboard.mjs')]);
  fx = makeRunsFolder();
  d = await startDashboard({ runsDir: fx.runs, port: 0, staticDir: STATIC, pollMs: 50 });
});
after(async () => {
  await d.close();
});

/** A raw GET (the URL is sent exactly as given: no client-side normalisation of '..'). */
function get(rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: d.port, path: rawPath, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('latin1'), type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the page and its assets are served', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.type, /text\/html/);
  assert.match(index.body, /gradkit dashboard/);
  assert.equal((await get('/app.js')).status, 200);
  assert.match((await get('/app.css')).body, /uplot/);
});

test('GET /api/runs lists runs with status, best metric, duration and tags, and the tune study', async () => {
  const r = await get('/api/runs');
  assert.equal(r.status, 200);
  const runs = JSON.parse(r.body) as { name: string; kind: string; status: string; best: unknown; seconds: number | null; epochs: number; tags: string[]; hasRecord: boolean; hasAnalysis: boolean }[];
  // 'escape' (a symlink out of the folder) is not listed.
  assert.deepEqual(runs.map((x) => x.name), ['alpha', 'beta', 'study']);
  const alpha = runs[0];
  assert.equal(alpha.status, 'completed');
  assert.deepEqual(alpha.best, { monitor: 'valLoss', value: 0.84, epoch: 2 });
  assert.equal(alpha.seconds, 12.5);
  assert.equal(alpha.epochs, 3);
  assert.deepEqual(alpha.tags, ['baseline', 'digits']);
  assert.ok(alpha.hasRecord && alpha.hasAnalysis);
  assert.equal(runs[1].status, 'running', 'beta has no (readable) summary');
  assert.equal(runs[2].kind, 'study');
});

test('run files come back parsed: metrics, record, analysis, trials, config, and the misclassified PNG', async () => {
  const m = JSON.parse((await get('/api/runs/alpha/metrics')).body) as { kind: string }[];
  assert.equal(m.filter((l) => l.kind === 'epoch').length, 3);
  assert.equal(m.filter((l) => l.kind === 'step').length, 8);
  assert.equal((JSON.parse((await get('/api/runs/alpha/record')).body) as unknown[]).length, 2);
  assert.deepEqual(JSON.parse((await get('/api/runs/alpha/analysis')).body).confusion, [[4, 1], [1, 4]]);
  assert.equal((JSON.parse((await get('/api/runs/study/trials')).body) as unknown[]).length, 3);
  assert.equal(JSON.parse((await get('/api/runs/alpha/config')).body).optimizer.lr, 0.01);
  const png = await get('/api/runs/alpha/misclassified/000-true3-pred5.png');
  assert.equal(png.status, 200);
  assert.equal(png.type, 'image/png');
  assert.equal(png.body.slice(1, 4), 'PNG');
  assert.equal((await get('/api/runs/beta/analysis')).status, 404);
  assert.equal((await get('/api/runs/nosuch/metrics')).status, 404);
});

test('path traversal: crafted URLs get 400/403/404 and never a file outside the runs folder', async () => {
  const hostile = [
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/%252e%252e%252fsecret.txt',
    '/api/runs/..%2f..%2fsecret.txt/metrics',
    '/api/runs/../../secret.txt',
    '/api/runs/%2e%2e/metrics',
    '/api/runs/..%5csecret/metrics',
    '/api/runs/alpha/..%2f..%2f..%2fsecret.txt',
    '/api/runs/escape/metrics',
    '/api/runs/beta/summary',
    '/api/runs/alpha/misclassified/..%2f..%2f..%2fsecret.txt',
    '/api/runs/alpha/misclassified/%2e%2e',
    '/api/runs/alpha/misclassified/../config.json',
    '/api/runs/alpha/misclassified/x.png%00.json',
    '/api/runs/%00/metrics',
    '/api/runs/alpha%2f..%2f..%2fsecret/metrics',
    '/api/runs/.hidden/metrics',
    '/api/runs/alpha/config.json',
    '/api/runs/alpha/best.ckpt',
    '/api/runs/alpha/..',
    '/api/runs/%c0%ae%c0%ae/metrics',
    '/api/runs/%/metrics',
    '/app.js/../../secret.txt',
    '/index.html%2f..%2f..%2fsecret.txt',
    '//etc/passwd',
    '/etc/passwd',
    '/api/runs/alpha/metrics/../../../../secret.txt',
    '\\..\\secret.txt',
  ];
  assert.ok(hostile.length >= 20);
  for (const url of hostile) {
    const r = await get(url);
    assert.ok([400, 403, 404].includes(r.status), `${url} → ${r.status}`);
    assert.doesNotMatch(r.body, /TOP SECRET|"secret":true|root:/, url);
  }
  // Double-check the symlinked run is really there, so refusing it is the code's doing.
  assert.ok(fs.existsSync(path.join(fx.runs, 'escape', 'metrics.jsonl')));
});

test('a foreign Host header is refused on loopback (DNS rebinding); other methods get 405', async () => {
  assert.equal((await get('/api/runs', { host: 'evil.example:80' })).status, 403);
  assert.equal((await get('/api/runs', { host: `localhost:${d.port}` })).status, 200);
  const status = await new Promise<number>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: d.port, path: '/api/runs', method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.end();
  });
  assert.equal(status, 405);
});

test('pathSegments decodes each segment once and rejects separators hidden in encodings', () => {
  assert.deepEqual(pathSegments('/api/runs/a%20b/metrics?x=1'), ['api', 'runs', 'a b', 'metrics']);
  assert.equal(pathSegments('/api/%2e%2e/x'), null);
  assert.equal(pathSegments('/api/a%2fb'), null);
  assert.equal(pathSegments('/api/a%5cb'), null);
  assert.equal(pathSegments('/api/%E0%A4%A'), null);
});

test('server-sent events: a line appended to metrics.jsonl arrives; a new run is announced', async () => {
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  const req = http.get({ host: '127.0.0.1', port: d.port, path: '/api/events' });
  const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const ev = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      events.push({ event: ev, data: JSON.parse(data) });
    }
  });
  const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
    for (let t = 0; t < 100 && !pred(); t++) await new Promise((r) => setTimeout(r, 30));
    assert.ok(pred(), `timed out waiting for ${what}: ${JSON.stringify(events)}`);
  };
  try {
    await waitFor(() => events.some((e) => e.event === 'hello'), 'hello');
    assert.equal(events[0].event, 'runs');
    // Existing lines are not re-sent: the page loads history through the API.
    assert.equal(events.filter((e) => e.event === 'metrics').length, 0);
    // Half a line first: nothing is sent until it is complete.
    const file = path.join(fx.runs, 'beta', 'metrics.jsonl');
    const line = epochLine(2, 1.3);
    fs.appendFileSync(file, line.slice(0, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.filter((e) => e.event === 'metrics').length, 0);
    fs.appendFileSync(file, `${line.slice(20)}\n`);
    await waitFor(() => events.some((e) => e.event === 'metrics'), 'the metrics event');
    const m = events.find((e) => e.event === 'metrics')!.data as { run: string; lines: { epoch: number; loss: number }[] };
    assert.equal(m.run, 'beta');
    assert.deepEqual(m.lines.map((l) => [l.epoch, l.loss]), [[2, 1.3]]);
    // A new run folder appears: the run list is sent again, then its lines.
    fs.mkdirSync(path.join(fx.runs, 'gamma'));
    fs.writeFileSync(path.join(fx.runs, 'gamma', 'metrics.jsonl'), `${epochLine(0, 2.2)}\n`);
    await waitFor(() => events.some((e) => e.event === 'metrics' && (e.data as { run: string }).run === 'gamma'), 'gamma lines');
    const lists = events.filter((e) => e.event === 'runs');
    assert.ok((lists[lists.length - 1].data as { name: string }[]).some((r) => r.name === 'gamma'));
  } finally {
    req.destroy();
  }
});

test('clear errors: a missing runs folder, an unbuilt page', async () => {
  await assert.rejects(startDashboard({ runsDir: path.join(fx.root, 'nope'), staticDir: STATIC }), /nope is not a folder/);
  await assert.rejects(startDashboard({ runsDir: fx.runs, staticDir: path.join(fx.root, 'nobuild') }), /not built .*npm run build:dashboard/);
});
