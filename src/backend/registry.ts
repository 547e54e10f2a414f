import { GradkitError } from '../core/errors.js';
import type { Backend } from './backend.js';

interface Entry {
  name: string;
  priority: number;
  /** Returns the backend, or null when this runtime cannot run it. */
  create: () => Backend | null;
  instance?: Backend | null;
}

const entries = new Map<string, Entry>();
let current: Backend | null = null;

/** Registers a backend factory; the highest-priority backend that can run is the default. */
export function registerBackend(name: string, create: () => Backend | null, priority = 0): void {
  entries.set(name, { name, priority, create });
  // A better backend registered later becomes the default unless the user chose one.
  if (current !== null && !userChose) {
    const best = bestEntry();
    if (best && best.name !== current.name) current = null;
  }
}

let userChose = false;

function instantiate(e: Entry): Backend | null {
  if (e.instance === undefined) e.instance = e.create();
  return e.instance;
}

function bestEntry(): Entry | undefined {
  return [...entries.values()].sort((a, b) => b.priority - a.priority).find((e) => instantiate(e) !== null);
}

/**
 * GRADKIT_BACKEND from the environment (Node; absent in browsers), read the way the wasm
 * backend reads GRADKIT_NUM_THREADS: through globalThis, so the core never imports `process`.
 */
function envBackendName(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADKIT_BACKEND;
  return env === undefined || env.trim() === '' ? undefined : env.trim();
}

/**
 * The backend that kernels run on now: the one chosen with setBackend, else the one named by
 * GRADKIT_BACKEND (runs whole suites on another backend: `GRADKIT_BACKEND=strict`), else the
 * highest-priority backend that can run here.
 */
export function getBackend(): Backend {
  if (current) return current;
  const fromEnv = envBackendName();
  if (fromEnv !== undefined) {
    const e = entries.get(fromEnv);
    if (!e) {
      throw new GradkitError('GRADKIT_BACKEND', `unknown backend '${fromEnv}'; registered: ${[...entries.keys()].join(', ')}`);
    }
    const b = instantiate(e);
    if (!b) throw new GradkitError('GRADKIT_BACKEND', `backend '${fromEnv}' cannot run in this runtime`);
    current = b;
    // As if the user had called setBackend: a backend registered later does not displace it.
    userChose = true;
    return current;
  }
  const best = bestEntry();
  if (!best) throw new GradkitError('getBackend', 'no backend is registered');
  current = instantiate(best)!;
  return current;
}

/** Name of the backend in use, e.g. 'wasm' or 'reference'. */
export function backendName(): string {
  return getBackend().name;
}

/** Switches backend by name; throws naming the available ones when it cannot run here. */
export function setBackend(name: string): void {
  const e = entries.get(name);
  if (!e) {
    throw new GradkitError('setBackend', `unknown backend '${name}'; registered: ${[...entries.keys()].join(', ')}`);
  }
  const b = instantiate(e);
  if (!b) throw new GradkitError('setBackend', `backend '${name}' cannot run in this runtime`);
  current = b;
  userChose = true;
}

/** Every registered backend with its priority and whether it can run here. */
export function listBackends(): { name: string; priority: number; available: boolean }[] {
  return [...entries.values()].map((e) => ({ name: e.name, priority: e.priority, available: instantiate(e) !== null }));
}

/** The names of the registered backends that can run here, in registration order. */
export function availableBackends(): string[] {
  return listBackends().filter((b) => b.available).map((b) => b.name);
}

/** Runs `fn` with a given backend, restoring the previous one afterwards (tests, benchmarks). */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = current;
  const prevChose = userChose;
  setBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
    userChose = prevChose;
  }
}
