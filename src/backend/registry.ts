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

/** The backend that kernels run on now. */
export function getBackend(): Backend {
  if (current) return current;
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
