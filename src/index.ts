/**
 * The helpers behind notebooks/deep-convolution.ipynb. A notebook imports
 * them by name: `import { loadMnist, buildConvNet } from "deep-convolution"`.
 */
export { tf } from "./backend";
export { parseIdx, encodeIdx, IdxFormatError, type IdxArray } from "./idx";
export { loadMnist, MnistData, DataFileError, MNIST_FILES, type LoadMnistOptions } from "./data";
export { buildConvNet, type ConvNetOptions } from "./models";
export { adadelta, KerasAdadelta, type AdadeltaOptions } from "./adadelta";
export { train, evaluate, historyOf, type History, type Metrics, type EpochLogs, type TrainOptions } from "./training";
export { formatProgressLine, KerasProgress } from "./progress";
export { historyTable, comparisonTable, tableHtml, tableText, type ModelResult } from "./tables";
export { plotHistory, type Figure, type HistoryPlot } from "./charts";
export { renderPng, closeRenderer, findBrowser } from "./render";
export { show, trainWithProgress } from "./display";
export { writeMetrics, writeFileAtomic } from "./outputs";
export { checkParameters, parseParameterValue, DEFAULT_PARAMETERS, ParameterError, type Parameters } from "./parameters";
