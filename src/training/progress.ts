/**
 * Keras's `verbose=1` progress as text: an "Epoch e/E" line, then a bar that
 * fills while the epoch runs and ends as
 * `375/375 [==============================] - 33s 88ms/step - loss: … - val_accuracy: …`.
 * Where the text goes (a notebook output, a terminal) is the caller's choice:
 * it gets the finished lines and the running one apart, never to be parsed back.
 */
import type { Callback, Logs, TrainingParams } from "./callbacks";

const BAR_WIDTH = 30;

function bar(step: number, steps: number): string {
  const filled = Math.floor((BAR_WIDTH * step) / steps);
  if (filled === 0) return ".".repeat(BAR_WIDTH);
  return `${"=".repeat(filled - 1)}${step < steps ? ">" : "="}${".".repeat(BAR_WIDTH - filled)}`;
}

function seconds(s: number): string {
  const two = (n: number) => String(Math.floor(n)).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}:${two((s % 3600) / 60)}:${two(s % 60)}`;
  return s >= 60 ? `${Math.floor(s / 60)}:${two(s % 60)}` : `${Math.round(s)}s`;
}

/** Keras's order: the training figures (loss, accuracy, then other metrics as compiled), then their val_ twins. */
function metrics(logs: Logs): string {
  const keys = Object.keys(logs).filter((k) => k !== "batch" && k !== "size");
  const training = keys.filter((k) => !k.startsWith("val_"));
  return [...training, ...keys.filter((k) => k.startsWith("val_"))]
    .map((k) => ` - ${k}: ${logs[k]!.toFixed(4)}`)
    .join("");
}

/** One progress line, as Keras prints it during (`final` false) and after an epoch. */
export function formatProgressLine(step: number, steps: number, elapsed: number, logs: Logs, final: boolean): string {
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

export type ProgressOutput = (transcript: Transcript) => void;

/** In a terminal: each finished line once, and the running one redrawn in place on a TTY. */
export function terminalOutput(): ProgressOutput {
  let printed = 0;
  return ({ finished, running }) => {
    for (; printed < finished.length; printed++)
      process.stdout.write(`${process.stdout.isTTY ? "\r\x1b[K" : ""}${finished[printed]}\n`);
    if (running !== null && process.stdout.isTTY) process.stdout.write(`\r\x1b[K${running}`);
  };
}

// Where fit's progress goes. The display module, the one that knows the kernel,
// puts an output updated in place here when it is loaded (as the notebook does).
let newOutput: () => ProgressOutput = terminalOutput;

/** Sets where each fit's progress is shown from now on (display.ts: a kernel output, else the terminal). */
export function setProgressOutput(factory: () => ProgressOutput): void {
  newOutput = factory;
}

/**
 * Keras's progress bar (its ProgbarLogger) as a callback: the transcript goes
 * to `render` at most every `intervalMs` while an epoch runs, and always when
 * one begins or ends. verbose 2 shows only each epoch's final line, as Keras
 * does. The one place progress becomes text; outputs get it structured.
 */
export class KerasProgress implements Callback {
  private finished: string[] = [];
  private running: string | null = null;
  private lastRender = 0;
  private epochStarted = 0;
  private params: TrainingParams | null = null;

  constructor(
    private readonly render: ProgressOutput = newOutput(),
    private readonly verbose: 1 | 2 = 1,
    private readonly intervalMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get transcript(): Transcript {
    return { finished: [...this.finished], running: this.running };
  }

  get text(): string {
    return transcriptText(this.transcript);
  }

  setParams(params: TrainingParams): void {
    this.params = params;
  }

  onEpochBegin(epoch: number): void {
    const { epochs, steps } = this.params!;
    this.epochStarted = this.now();
    this.finished.push(`Epoch ${epoch + 1}/${epochs}`);
    if (this.verbose === 1) this.running = formatProgressLine(0, steps, 0, {}, false);
    this.flush();
  }

  onBatchEnd(batch: number, logs: Logs = {}): void {
    if (this.verbose !== 1) return;
    this.running = formatProgressLine(batch + 1, this.params!.steps, this.elapsed(), logs, false);
    if (this.now() - this.lastRender >= this.intervalMs) this.flush();
  }

  onEpochEnd(_epoch: number, logs: Logs = {}): void {
    const { steps } = this.params!;
    this.finished.push(formatProgressLine(steps, steps, this.elapsed(), logs, true));
    this.running = null;
    this.flush();
  }

  /** Adds a finished line of its own (why training ended early), shown at once. */
  note(line: string): void {
    this.finished.push(line);
    this.flush();
  }

  /** An interrupted epoch keeps the bar where it stopped. */
  onTrainEnd(): void {
    if (this.running !== null) this.finished.push(this.running);
    this.running = null;
    this.flush();
  }

  private elapsed(): number {
    return (this.now() - this.epochStarted) / 1000;
  }

  private flush(): void {
    this.lastRender = this.now();
    this.render(this.transcript);
  }
}
