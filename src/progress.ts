/**
 * Keras's `verbose=1` progress as text: an "Epoch e/E" line, then a bar that
 * fills while the epoch runs and ends as
 * `375/375 [==============================] - 33s 88ms/step - loss: … - val_accuracy: …`.
 * Where the text goes (a notebook output, a terminal) is the caller's choice.
 */
import type { EpochLogs, Metrics, TrainingCallbacks, TrainingParams, History } from "./training";

const BAR_WIDTH = 30;

function bar(step: number, steps: number): string {
  const filled = Math.floor((BAR_WIDTH * step) / steps);
  if (filled === 0) return ".".repeat(BAR_WIDTH);
  return `${"=".repeat(filled - 1)}${step < steps ? ">" : "="}${".".repeat(BAR_WIDTH - filled)}`;
}

function seconds(s: number): string {
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`
    : s >= 60 ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`
    : `${Math.round(s)}s`;
}

function metrics(logs: Partial<EpochLogs>): string {
  const keys = ["loss", "accuracy", "val_loss", "val_accuracy"] as const;
  return keys
    .filter((k) => logs[k] !== undefined)
    .map((k) => ` - ${k}: ${logs[k]!.toFixed(4)}`)
    .join("");
}

/** One progress line, as Keras prints it during (`final` false) and after an epoch. */
export function formatProgressLine(step: number, steps: number, elapsed: number, logs: Partial<EpochLogs>, final: boolean): string {
  const width = String(steps).length;
  const head = `${String(step).padStart(width)}/${steps} [${bar(step, steps)}]`;
  if (final) {
    const perStep = (elapsed / Math.max(step, 1)) * 1000;
    return `${head} - ${seconds(elapsed)} ${Math.round(perStep)}ms/step${metrics(logs)}`;
  }
  const eta = (elapsed / Math.max(step, 1)) * (steps - step);
  return `${head} - ETA: ${seconds(eta)}${metrics(logs)}`;
}

/**
 * Training callbacks that keep the Keras-style transcript and hand its full
 * text to `render` — at most every `intervalMs` while an epoch runs, and
 * always when an epoch ends.
 */
export class KerasProgress implements TrainingCallbacks {
  private lines: string[] = [];
  private current = "";
  private lastRender = 0;
  private params: TrainingParams | null = null;

  constructor(
    private readonly render: (text: string) => void,
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get text(): string {
    return [...this.lines, this.current].filter((l) => l !== "").join("\n");
  }

  onTrainBegin(params: TrainingParams): void {
    this.params = params;
  }

  onEpochBegin(epoch: number, params: TrainingParams): void {
    this.params = params;
    this.lines.push(`Epoch ${epoch + 1}/${params.epochs}`);
    this.current = formatProgressLine(0, params.steps, 0, {}, false);
    this.flush();
  }

  onBatchEnd(step: number, logs: Metrics, elapsed: number): void {
    if (this.params === null) return;
    this.current = formatProgressLine(step + 1, this.params.steps, elapsed, logs, false);
    if (this.now() - this.lastRender >= this.intervalMs) this.flush();
  }

  onEpochEnd(_epoch: number, logs: EpochLogs): void {
    if (this.params === null) return;
    this.lines.push(formatProgressLine(this.params.steps, this.params.steps, logs.seconds, logs, true));
    this.current = "";
    this.flush();
  }

  onTrainEnd(history: History): void {
    if (history.stopped) {
      const { epoch, step } = history.stopped;
      this.lines.push(
        `Stopped in epoch ${epoch + 1} at step ${step}/${history.params.steps}; `
          + `the history keeps the ${history.epoch.length} finished epoch${history.epoch.length === 1 ? "" : "s"}.`,
      );
      this.current = "";
    }
    this.flush();
  }

  /** Adds a line of its own to the transcript. */
  note(line: string): void {
    this.lines.push(line);
    this.flush();
  }

  private flush(): void {
    this.lastRender = this.now();
    this.render(this.text);
  }
}
