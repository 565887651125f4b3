/**
 * Files a run leaves behind, written atomically (files.ts), so an interrupted
 * run never leaves a half-written file.
 */
import path from "node:path";
import { generalisation } from "./analysis";
import { writeFileAtomic } from "../core/files";
import type { ModelResult } from "./tables";

/**
 * Writes `<outputDir>/metrics.json`: per model, its history (Keras's names
 * plus seconds per epoch), how it was trained (epochs, batch size, training
 * and validation examples), its generalisation figures (final train and
 * validation metrics, their gaps, the best validation epoch; null where there
 * was no validation) and test loss and accuracy. Returns the file's path.
 */
export function writeMetrics(outputDir: string, results: Record<string, ModelResult>): string {
  const models = Object.fromEntries(
    Object.entries(results).map(([name, { history, test }]) => [
      name,
      {
        history: history.history,
        epochs: history.epoch.length,
        training: history.params,
        generalisation: history.epoch.length > 0 ? generalisation(history) : null,
        testLoss: test?.loss ?? null,
        testAccuracy: test?.accuracy ?? null,
      },
    ]),
  );
  const file = path.join(outputDir, "metrics.json"); // as given, so what the notebook prints names no machine path
  writeFileAtomic(file, `${JSON.stringify({ createdAt: new Date().toISOString(), models }, null, 2)}\n`);
  return file;
}
