/**
 * The notebook's training step in one call: train with live progress and
 * save the result, or, with loadSavedModels, load what an earlier run saved.
 * Keeps the choice and the file paths out of the notebook's cells.
 */
import path from "node:path";
import type { LayersModel, Tensor } from "@tensorflow/tfjs-node";
import { trainWithProgress } from "./display";
import type { Parameters } from "./parameters";
import { loadTrained, saveTrained } from "../training/persistence";
import type { History } from "../training/training";

/**
 * `model.fit(x_train, y_train, …)` with the notebook's parameters: trains
 * with Keras-style progress and saves the model and its history in
 * `<outputDir>/models/<savedAs>`; with `loadSavedModels`, loads them from
 * there instead of training. An interrupted run is not saved, so it never
 * replaces a complete earlier one.
 */
export async function fitOrLoad(
  model: LayersModel,
  data: { xTrain: Tensor; yTrain: Tensor },
  params: Parameters,
  savedAs: string,
): Promise<History> {
  const dir = path.join(params.outputDir, "models", savedAs);
  if (params.loadSavedModels) {
    const history = await loadTrained(model, dir);
    console.log(`Loaded from ${dir}, trained for ${history.epoch.length} epoch(s); not trained again (loadSavedModels = true).`);
    return history;
  }
  const history = await trainWithProgress(model, data.xTrain, data.yTrain, {
    batchSize: params.batchSize, epochs: params.epochs, validationSplit: params.validationSplit, seed: params.seed,
  });
  if (history.stopped) console.log(`Not saved: training was stopped. Run this cell again to train all ${params.epochs} epochs.`);
  else console.log(`Saved in ${await saveTrained(model, history, dir)}`);
  return history;
}
