/**
 * Files a run leaves behind, written atomically (to a temporary name, then
 * renamed), so an interrupted run never leaves a half-written file.
 */
import fs from "node:fs";
import path from "node:path";
import { generalisation } from "./analysis";
import type { ModelResult } from "./tables";

export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/**
 * Writes `<outputDir>/metrics.json`: per model, its history (Keras's names
 * plus seconds per epoch), its generalisation figures (final train and
 * validation metrics, their gaps, the best validation epoch) and test loss
 * and accuracy. Returns the file's path.
 */
export function writeMetrics(outputDir: string, results: Record<string, ModelResult>, parameters?: object): string {
  const models = Object.fromEntries(
    Object.entries(results).map(([name, { history, test }]) => [
      name,
      {
        history: history.history,
        epochs: history.epoch.length,
        stopped: history.stopped ?? null,
        generalisation: history.epoch.length > 0 && history.history.val_loss.length > 0 ? generalisation(history) : null,
        testLoss: test?.loss ?? null,
        testAccuracy: test?.accuracy ?? null,
      },
    ]),
  );
  const file = path.resolve(outputDir, "metrics.json");
  writeFileAtomic(file, `${JSON.stringify({ createdAt: new Date().toISOString(), parameters: parameters ?? null, models }, null, 2)}\n`);
  return file;
}
