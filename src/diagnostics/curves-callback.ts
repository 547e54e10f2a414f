/**
 * CurvesPlot: rewrites <dir>/curves.svg (and curves.png) at the end of every epoch, so a run
 * folder always holds a picture of how training went, even after a crash. It keeps no state of
 * its own: trainer.history (restored on resume) is the whole record.
 */
import { ORDER, type Callback } from '../train/callback.js';
import { joinPath, type Storage } from '../train/storage.js';
import type { Trainer } from '../train/trainer.js';
import { curvesSvg } from './curves.js';
import { curvesPng } from './curves-png.js';

/** Options of the CurvesPlot callback: where the picture is written, the run's legend name and whether a PNG is made too. */
export interface CurvesPlotOptions {
  storage: Storage;
  dir: string;
  /** The run's name in the legend (default: the folder's last part). */
  name?: string;
  /** Also write curves.png (default true). */
  png?: boolean;
}

/** A Trainer callback that rewrites `curves.svg` (and `curves.png`) in the run folder after every epoch. */
export class CurvesPlot implements Callback {
  readonly name = 'curvesPlot';
  // After the metrics log: the epoch's logs are complete by then.
  readonly order = ORDER.log + 1;
  private readonly opts: CurvesPlotOptions;

  constructor(opts: CurvesPlotOptions) {
    this.opts = opts;
  }

  async afterEpoch(t: Trainer): Promise<void> {
    const { storage, dir } = this.opts;
    const runs = [{ name: this.opts.name ?? (dir.split('/').filter(Boolean).pop() ?? 'run'), epochs: t.history }];
    await storage.writeAtomic(joinPath(dir, 'curves.svg'), curvesSvg(runs));
    if (this.opts.png !== false) await storage.writeAtomic(joinPath(dir, 'curves.png'), curvesPng(runs));
  }
}
