/**
 * `gradkit dashboard [runs-dir] [--host 127.0.0.1] [--port 6006]`: serves the live dashboard of
 * a runs folder until Ctrl-C. Binding to anything but loopback prints a warning: the server has
 * no authentication, and anyone who can reach the port can read the runs.
 */
import { parseArgs } from 'node:util';
import { GradkitError } from '../core/errors.js';
import { isLoopback, startDashboard } from '../dashboard/server.js';

export const DASHBOARD_USAGE = 'usage: gradkit dashboard [runs-dir] [--host 127.0.0.1] [--port 6007]   live dashboard of a runs folder (default: runs)\n';

export interface DashboardIo {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Stops the server (tests; the command itself stops on Ctrl-C). */
  signal?: AbortSignal;
  /** Called with the URL once the server listens. */
  onStart?: (url: string) => void;
}

export async function runDashboard(argv: string[], io: DashboardIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const errOut = io.err ?? ((s: string) => void process.stderr.write(s));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    errOut(`gradkit dashboard: ${(e as Error).message}\n${DASHBOARD_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(DASHBOARD_USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    errOut(`gradkit dashboard: give at most one runs folder, got ${positionals.length}\n${DASHBOARD_USAGE}`);
    return 2;
  }
  const port = values.port === undefined ? 6007 : Number(values.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    errOut(`gradkit dashboard: --port must be a whole number from 0 to 65535, got '${values.port}'\n${DASHBOARD_USAGE}`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    errOut(`gradkit dashboard: warning: listening on ${host}, not loopback; the dashboard has no login, so anyone who can reach this port can read these runs\n`);
  }
  try {
    const d = await startDashboard({ runsDir: positionals[0] ?? 'runs', host, port });
    out(`gradkit dashboard: ${d.url} (Ctrl-C to stop)\n`);
    io.onStart?.(d.url);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      io.signal?.addEventListener('abort', stop, { once: true });
    });
    await d.close();
    return 0;
  } catch (e) {
    if (e instanceof GradkitError) {
      errOut(`gradkit: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
