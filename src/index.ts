/**
 * What the notebook and a student's own cells import by name:
 * `import { loadMnist, kerasLayers } from "deep-convolution"`. Everything else
 * in src/ is imported from its own module (by tests and scripts).
 */
export * as tf from "./training/tf";
export { TfjsSequential } from "./training/tfjsSequential";
export type { Network } from "./core/network";
export { loadMnist, type MnistData, type LoadMnistOptions } from "./data/mnist";
export { adadelta, kernelChoices, type AdadeltaOptions, type KernelChoice } from "./engine";
export type { KerasLayers } from "./model/layers";
export { kerasLayers, type KerasSequential, type FitArgs, type EvaluateArgs } from "./training/sequential";
export { buildConvNet, type ConvNetOptions } from "./training/models";
export {
  imageDataGenerator,
  type ImageDataGenerator,
  type ImageDataGeneratorArgs,
  type ImageFlow,
  type FlowArgs,
} from "./training/generator";
export { TrainingInterrupted, type History } from "./training/training";
export {
  earlyStopping,
  modelCheckpoint,
  tensorBoard,
  type Callback,
  type Logs,
  type TrainingParams,
  type EarlyStoppingArgs,
  type ModelCheckpointArgs,
} from "./training/callbacks";
export { historyTable, comparisonTable, classTable, type ModelResult } from "./report/tables";
export {
  plotHistory,
  confusionFigure,
  type Figure,
  type LineFigure,
  type HeatmapFigure,
  type HistoryPlot,
} from "./report/charts";
export type { TileGrid } from "./report/images";
export { describeGeneralisation, generalisation } from "./report/analysis";
export { sampleGrid, augmentedGrid, testReport, mistakeGallery } from "./report/gallery";
export { filterGrid, featureMaps, filterPatterns, classActivation } from "./report/convnet";
export { writeMetrics } from "./report/outputs";
export { show } from "./notebook/display";
export { liveChart, type LiveChartOptions } from "./notebook/liveChart";
