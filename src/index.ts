/**
 * The helpers behind notebooks/deep-convolution.ipynb. A notebook imports
 * them by name: `import { loadMnist, kerasLayers } from "deep-convolution"`.
 */
export { tf } from "./backend";
export { parseIdx, encodeIdx, IdxFormatError, type IdxArray } from "./idx";
export { loadMnist, MnistData, DataFileError, DATASETS, MNIST_FILES, type LoadMnistOptions, type DatasetName } from "./data";
export { buildConvNet, type ConvNetOptions } from "./models";
export { kerasLayers, KerasSequential, type KerasLayers } from "./layers";
export { kerasSummary } from "./summary";
export { adadelta, KerasAdadelta, type AdadeltaOptions } from "./adadelta";
export { train, evaluate, historyOf, type History, type Metrics, type EpochLogs, type TrainOptions } from "./training";
export { formatProgressLine, KerasProgress } from "./progress";
export { historyTable, comparisonTable, classTable, tableHtml, tableText, type ModelResult } from "./tables";
export { plotHistory, confusionFigure, type Figure, type HistoryPlot } from "./charts";
export { confusionMatrix, perClassMetrics, confidentMistakes, generalisation, describeGeneralisation, predictProbabilities } from "./analysis";
export { tileGrid, type PngImage, type Tile } from "./images";
export { sampleGrid, testReport, mistakeGallery, type TestReport } from "./gallery";
export { saveTrained, loadTrained } from "./persistence";
export { renderPng, closeRenderer } from "./render";
export { chooseBrowser, findBrowser, type BrowserChoice } from "./browser";
export { printPdf, writePdf, type PaperFormat } from "./pdf";
export { show, trainWithProgress } from "./display";
export { fitOrLoad } from "./steps";
export { writeMetrics } from "./outputs";
export { writeFileAtomic } from "./files";
export { checkParameters, parseParameterValue, DEFAULT_PARAMETERS, ParameterError, type Parameters } from "./parameters";
