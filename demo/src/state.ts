/** What the demo page publishes as globalThis.gradkitDemo: the browser tests read it back (and a curious user can inspect it in the console). Types only. */
import type { DemoResult } from './options.js';
import type { LoadedInfo } from './predict-protocol.js';

export interface DemoState {
  state: 'running' | 'done' | 'error';
  isolated: boolean;
  /** The backend the worker trains on ('wasm' or 'webgpu'), what the page asked for, and the WebGPU adapter when on webgpu. */
  backend?: string;
  requested?: 'auto' | 'wasm' | 'webgpu';
  adapter?: { label: string; software: boolean };
  /** Why not on webgpu (one line), when it was asked for ('webgpu') or allowed ('auto'). */
  noWebGPU?: string;
  threads?: number;
  totalSteps: number;
  losses: number[];
  batchAccuracy: number[];
  /** Held-out accuracy as [step, accuracy] at each check. */
  testAccuracy: [number, number][];
  result?: Omit<DemoResult, 'model'>;
  error?: string;
  /** The model the predictor holds; null until one is loaded. */
  model: (LoadedInfo & { state: 'loading' | 'ready' | 'error'; error?: string }) | null;
  /** The last drawing's prediction and the model that made it. */
  prediction?: { digit: number; probs: number[]; model: string };
}
