/**
 * The helpers behind notebooks/deep-convolution.ipynb. A notebook imports
 * them by name: `import { loadMnist, kerasLayers } from "deep-convolution"`.
 */
export { tf } from "./core/backend";
export { parseIdx, encodeIdx, IdxFormatError, type IdxArray } from "./data/idx";
export { loadMnist, MnistData, type LoadMnistOptions } from "./data/mnist";
export { DataFileError } from "./data/sources";
export { DATASETS, MNIST_FILES, type DatasetName } from "./data/catalogue";
export { buildConvNet, type ConvNetOptions } from "./model/models";
export { kerasLayers, KerasSequential, type KerasLayers } from "./model/layers";
export { kerasSummary } from "./model/summary";
export { adadelta, KerasAdadelta, type AdadeltaOptions } from "./model/adadelta";
export { train, evaluate, historyOf, type History, type Metrics, type EpochLogs, type TrainOptions, type TrainingEvent } from "./training/training";
export { formatProgressLine, KerasProgress, transcriptText, type Transcript } from "./training/progress";
export { historyTable, comparisonTable, classTable, tableHtml, tableText, type ModelResult } from "./report/tables";
export { plotHistory, confusionFigure, type Figure, type HistoryPlot } from "./report/charts";
export { confusionMatrix, perClassMetrics, confidentMistakes, generalisation, describeGeneralisation, predictProbabilities } from "./report/analysis";
export { tileGrid, type PngImage, type Tile } from "./report/images";
export { sampleGrid, testReport, mistakeGallery, type TestReport } from "./report/gallery";
export { saveTrained, loadTrained } from "./training/persistence";
export { renderPng, closeRenderer } from "./browser/render";
export { chooseBrowser, findBrowser, type BrowserChoice } from "./browser/browser";
export { printPdf, writePdf, type PaperFormat } from "./browser/pdf";
export { show, trainWithProgress } from "./notebook/display";
export { fitOrLoad } from "./notebook/steps";
export { writeMetrics } from "./report/outputs";
export { writeFileAtomic } from "./core/files";
export { checkParameters, parseParameterValue, DEFAULT_PARAMETERS, ParameterError, type Parameters } from "./notebook/parameters";
