/**
 * Training as a notebook runs it: `train` with an interrupt. Interrupting the
 * kernel (SIGINT, which is also Ctrl-C in a terminal) stops at the next batch
 * boundary; the finished epochs stay in the history and the model keeps its
 * weights. Events go to `onEvent` (e.g. progress.ts, then a display).
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { LayersModel, Tensor } from "@tensorflow/tfjs-node";
import { train, type History, type TrainingEvent, type TrainOptions } from "./training";

export async function fitInterruptibly(
  model: LayersModel,
  x: Tensor,
  y: Tensor,
  options: Omit<TrainOptions, "onEvent" | "signal">,
  onEvent: (event: TrainingEvent) => void,
): Promise<History> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  // tslab runs a cell's synchronous start under vm's breakOnSigint; a SIGINT
  // listener added then is lost when it ends, and the kernel's next interrupt
  // kills it (seen with tslab 1.0.22, Node 20). Adding it one turn later is safe.
  await nextTurn();
  process.on("SIGINT", onInterrupt);
  try {
    return await train(model, x, y, { ...options, signal: controller.signal, onEvent });
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}
