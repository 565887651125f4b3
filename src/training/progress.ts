/**
 * Keras's `verbose=1` progress as text: an "Epoch e/E" line, then a bar that
 * fills while the epoch runs and ends as
 * `375/375 [==============================] - 33s 88ms/step - loss: … - val_accuracy: …`.
 * Where the text goes (a notebook output, a terminal) is the caller's choice:
 * it gets the finished lines and the running one apart, never to be parsed back.
 */
import type { EpochLogs, Metrics, TrainingEvent, TrainingParams } from "./training";

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

/** The progress text so far: finished lines, and the line of the running epoch (redrawn in place), if any. */
export interface Transcript {
  finished: string[];
  running: string | null;
}

export function transcriptText({ finished, running }: Transcript): string {
  return [...finished, ...(running === null ? [] : [running])].join("\n");
}

/**
 * Turns training events into Keras's transcript and hands it to `render`: at
 * most every `intervalMs` while an epoch runs, and always when one begins or
 * ends. The one place progress becomes text; callers get it structured.
 */
export class KerasProgress {
  private finished: string[] = [];
  private running: string | null = null;
  private lastRender = 0;
  private params: TrainingParams | null = null;

  constructor(
    private readonly render: (transcript: Transcript) => void,
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get transcript(): Transcript {
    return { finished: [...this.finished], running: this.running };
  }

  get text(): string {
    return transcriptText(this.transcript);
  }

  /** Takes the next training event (pass it as train's onEvent). */
  readonly handle = (event: TrainingEvent): void => {
    switch (event.type) {
      case "trainBegin":
        this.params = event.params;
        return;
      case "epochBegin":
        this.params = event.params;
        this.finished.push(`Epoch ${event.epoch + 1}/${event.params.epochs}`);
        this.running = formatProgressLine(0, event.params.steps, 0, {}, false);
        this.flush();
        return;
      case "batchEnd":
        if (this.params === null) return;
        this.running = formatProgressLine(event.step + 1, this.params.steps, event.seconds, event.logs, false);
        if (this.now() - this.lastRender >= this.intervalMs) this.flush();
        return;
      case "epochEnd":
        if (this.params === null) return;
        this.finished.push(formatProgressLine(this.params.steps, this.params.steps, event.logs.seconds, event.logs, true));
        this.running = null;
        this.flush();
        return;
      case "stopped": {
        const kept = event.history.epoch.length;
        this.finished.push(
          `Stopped in epoch ${event.epoch + 1} at step ${event.step}/${event.history.params.steps}; `
            + `the history keeps the ${kept} finished epoch${kept === 1 ? "" : "s"}.`,
          "historyOf(model) returns it; the model keeps the weights it had reached.",
        );
        this.running = null;
        this.flush();
        return;
      }
      case "trainEnd":
        this.flush();
    }
  };

  private flush(): void {
    this.lastRender = this.now();
    this.render(this.transcript);
  }
}
