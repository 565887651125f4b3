/**
 * Trained models on disk, in TensorFlow.js's format (model.json and
 * weights.bin, loadable by any tfjs program) with their training history
 * beside them, so a notebook can be evaluated again without retraining.
 */
import fs from "node:fs";
import path from "node:path";
import type { LayersModel } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { UserError } from "../core/errors";
import { writeFileAtomic } from "../core/files";
import type { History } from "./training";

const HISTORY_FILE = "history.json";

/**
 * Saves `model` and `history` under `dir` (e.g. output/models/model_1). A
 * complete new copy replaces the old one only once it is fully written.
 * Returns `dir` as given (normalised, not made absolute): notebooks print it,
 * and a handed-in notebook should not show the student's own folders.
 */
export async function saveTrained(model: LayersModel, history: History, dir: string): Promise<string> {
  const target = path.resolve(dir);
  const staging = `${target}.${process.pid}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await model.save(`file://${staging}`);
  writeFileAtomic(path.join(staging, HISTORY_FILE), `${JSON.stringify(history, null, 2)}\n`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  return path.normalize(dir);
}

/**
 * Loads the weights saved under `dir` into `model` (built the same way) and
 * returns the history saved with them.
 */
export async function loadTrained(model: LayersModel, dir: string): Promise<History> {
  const target = path.resolve(dir);
  const modelJson = path.join(target, "model.json");
  if (!fs.existsSync(modelJson) || !fs.existsSync(path.join(target, HISTORY_FILE))) {
    throw new UserError(`No saved model in ${path.normalize(dir)}. Run the notebook once with loadSavedModels = false: it trains and saves there.`);
  }
  const saved = await tf.loadLayersModel(`file://${modelJson}`);
  try {
    const weights = saved.getWeights();
    const expected = model.getWeights().map((w) => w.shape.join("×"));
    const found = weights.map((w) => w.shape.join("×"));
    if (expected.join() !== found.join()) {
      throw new UserError(`The model saved in ${path.normalize(dir)} has weights [${found.join(", ")}], this one [${expected.join(", ")}]: they are different networks.`);
    }
    model.setWeights(weights);
  } finally {
    saved.dispose();
  }
  return JSON.parse(fs.readFileSync(path.join(target, HISTORY_FILE), "utf8")) as History;
}
