/** The shapes shared by the families, the registry, the report and the CLI. */
import type { ArmResult } from './harness.js';
import type { Judgement } from './verdict.js';

export interface MetricColumn {
  /** Key in ArmResult.final. */
  key: string;
  label: string;
  /** Significant digits in the table (default 3). */
  digits?: number;
}

export interface ClaimResult {
  /** File-safe id (names the figure). */
  id: string;
  /** What is tested, in one line. */
  claim: string;
  /** The lecture's words, verbatim. */
  quote: string;
  /** The seed file (and line) the quote comes from. */
  source: string;
  /** Model, data, optimizer, epochs: enough to rerun it by hand. */
  setup: string;
  arms: ArmResult[];
  columns: MetricColumn[];
  judgement: Judgement;
  /** A chart of one curve metric over epochs for every arm. */
  figure?: { metric: string; label: string; logY?: boolean; xLabel?: string };
}

export interface RunContext {
  quick: boolean;
  seeds: number[];
  log: (line: string) => void;
}

export interface Family {
  name: string;
  title: string;
  run(ctx: RunContext): Promise<ClaimResult[]>;
}

export interface FamilyResult {
  name: string;
  title: string;
  claims: ClaimResult[];
  seconds: number;
}
