/**
 * The engine: the one folder that reaches into TensorFlow's internals (the
 * native binding's ops, resource variables, oneDNN's `_MklNative*` kernels
 * and the choice among kernels, tfjs's registered variables and deep
 * imports). The rest of src/ uses only what this file exports;
 * test/unit/architecture.test.ts holds it to that.
 */
export {
  trainingStep,
  trainFunction,
  testFunction,
  evaluationTotals,
  applyConstraints,
  type StepResult,
  type BatchTotals,
  type Batch,
  type BatchAugmentation,
} from "./step";
export type { CompiledStep } from "./compiled";
export { predictions, logitsThrough } from "./forward";
export { planFor } from "./stages";
export { lossNamed, metricNamed, METRIC_NAMES, type LossName, type Metric } from "./losses";
export { adadelta, KerasAdadelta, type AdadeltaOptions } from "./adadelta";
export { SeededDropout, SeededSpatialDropout2D } from "./dropout";
export {
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  RandomFlip,
  RandomContrast,
  isRandomImageLayer,
  type RandomRotationArgs,
  type RandomTranslationArgs,
  type RandomZoomArgs,
  type RandomFlipArgs,
  type RandomContrastArgs,
} from "./randomLayers";
export { randomAffine, FILL_MODES, type AffineRanges, type FillMode } from "./augmentation";
export { SeedSequence } from "./random";
export { kernelChoices } from "./kernels";
export type { KernelChoice } from "./tuner";

/**
 * The @tensorflow/tfjs-node version whose internals the engine was checked
 * against (test/unit/engine.test.ts fails, saying so, when another is installed).
 */
export const CHECKED_TFJS_NODE = "4.22.0";
