/**
 * The helpers behind notebooks/deep-convolution.ipynb. A notebook imports
 * them by name: `import { loadMnist, kerasLayers } from "deep-convolution"`.
 */
export { tf } from "./core/backend";
export { parseIdx, encodeIdx, IdxFormatError, type IdxArray } from "./data/idx";
export { loadMnist, MnistData, type LoadMnistOptions } from "./data/mnist";
export { DataFileError } from "./data/sources";
export { DATASETS, MNIST_FILES, type DatasetName } from "./data/catalogue";
export { kerasSummary } from "./model/summary";
export { adadelta, KerasAdadelta, type AdadeltaOptions } from "./engine";
export type { KerasLayers } from "./model/layers";
export type { Network } from "./core/network";
export { kerasLayers, KerasSequential, type FitArgs, type EvaluateArgs } from "./training/sequential";
export { buildConvNet, type ConvNetOptions } from "./training/models";
export { TrainingInterrupted, type History, type Metrics, type TrainingParams } from "./training/training";
export {
  earlyStopping, modelCheckpoint, tensorBoard, EarlyStopping, ModelCheckpoint,
  type Callback, type Logs, type EarlyStoppingArgs, type ModelCheckpointArgs,
} from "./training/callbacks";
export { formatProgressLine, KerasProgress, transcriptText, type Transcript } from "./training/progress";
export { historyTable, comparisonTable, classTable, tableHtml, tableText, type ModelResult } from "./report/tables";
export { plotHistory, trainingFigure, confusionFigure, type Figure, type HistoryPlot, type TrainingCurves } from "./report/charts";
export { confusionMatrix, perClassMetrics, confidentMistakes, generalisation, describeGeneralisation, predictProbabilities } from "./report/analysis";
export { tileGrid, type PngImage, type Tile } from "./report/images";
export { sampleGrid, testReport, mistakeGallery, type TestReport } from "./report/gallery";
export { renderPng, closeRenderer } from "./browser/render";
export { chooseBrowser, findBrowser, type BrowserChoice } from "./browser/browser";
export { printPdf, writePdf, type PaperFormat } from "./browser/pdf";
export { show } from "./notebook/display";
export { liveChart, type LiveChartOptions } from "./notebook/liveChart";
export { writeMetrics } from "./report/outputs";
export { writeFileAtomic } from "./core/files";
export { checkParameters, parseParameterValue, DEFAULT_PARAMETERS, ParameterError, type Parameters } from "./notebook/parameters";
