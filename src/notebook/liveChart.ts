/**
 * `liveChart()`: a fit callback that draws the loss and the first compiled
 * metric (accuracy, for the seed) beside their
 * `val_` counterparts in one Plotly chart in the fit cell's output, redrawn in
 * place after every epoch and, within one, every few seconds. Its last frame
 * carries a PNG like every other chart, so the saved notebook, its HTML and
 * the PDF show it. Outside a kernel it draws nothing.
 */
import type { Network } from "../core/network";
import { trainingFigure, type TrainingCurves } from "../report/charts";
import type { Callback, Logs } from "../training/callbacks";
import type { TrainingParams } from "../training/callbacks";
import { liveFigure } from "./display";

export interface LiveChartOptions {
  /** The chart's title; by default the model's name and "training history". */
  title?: string;
  /** Within an epoch, the least time between two frames (2000 ms); 0 redraws after every batch. */
  intervalMs?: number;
}

class LiveChart implements Callback {
  private output: ReturnType<typeof liveFigure> = null;
  private params: TrainingParams | null = null;
  private name = "model";
  private curves: TrainingCurves["history"] = {};
  private lastFrame = 0;
  /** Frames sent in the latest fit (for tests and the curious). */
  frames = 0;

  constructor(private readonly options: LiveChartOptions) {}

  setModel(model: Network): void {
    this.name = model.name;
  }

  setParams(params: TrainingParams): void {
    this.params = params;
  }

  onTrainBegin(): void {
    this.output = null;
    this.frames = 0;
    this.curves = Object.fromEntries(this.drawn().map((name) => [name, []]));
  }

  /** The chart's output opens with the first epoch, below fit's progress (the callback before it). */
  onEpochBegin(epoch: number): void {
    if (epoch > 0 || this.output !== null) return;
    this.output = liveFigure();
    this.draw();
  }

  onBatchEnd(batch: number, logs: Logs = {}): void {
    if (performance.now() - this.lastFrame < (this.options.intervalMs ?? 2000)) return;
    const epoch = this.curves["loss"]!.length;
    const metric = this.metric();
    this.draw({
      x: epoch + (batch + 1) / this.params!.steps,
      loss: logs["loss"]!,
      ...(metric === null ? {} : { metric: logs[metric] }),
    });
  }

  onEpochEnd(_epoch: number, logs: Logs = {}): void {
    for (const name of this.drawn()) this.curves[name]!.push(logs[name]!);
    this.draw();
  }

  /** The metric beside the loss: the first one compiled, or none. */
  private metric(): string | null {
    return this.params!.metrics.find((name) => name !== "loss" && !name.startsWith("val_")) ?? null;
  }

  /** What the chart draws, of what the fit logs: the loss, the metric, and their val_ twins. */
  private drawn(): string[] {
    const drawn = ["loss", this.metric()];
    return this.params!.metrics.filter((name) => drawn.includes(name.replace(/^val_/, "")));
  }

  /** The last frame, with its image: it is what the saved notebook keeps. */
  async onTrainEnd(): Promise<void> {
    if (this.output === null) return;
    await this.output.finish(this.figure());
    this.frames++;
  }

  private figure(running?: TrainingCurves["running"]): ReturnType<typeof trainingFigure> {
    const title = this.options.title ?? `${this.name}: training history`;
    return trainingFigure({ title, epochs: this.params!.epochs, metric: this.metric(), history: this.curves, running });
  }

  private draw(running?: TrainingCurves["running"]): void {
    this.lastFrame = performance.now();
    if (this.output === null) return;
    this.output.draw(this.figure(running));
    this.frames++;
  }
}

/**
 * A live chart of the loss and accuracy (the first compiled metric) for `model.fit`'s callbacks:
 * `callbacks: [liveChart()]`.
 */
export function liveChart(options: LiveChartOptions = {}): Callback & { readonly frames: number } {
  return new LiveChart(options);
}
