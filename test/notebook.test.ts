import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { executeNotebook, fashionMnist, joined, makeNotebook, outputsOf, root, run, scratchDir, tempDir, type Notebook, type NotebookOutput } from "./helpers";
import { readPdf, readPdfStructure } from "./pdfRead";

/** The absolute paths of this machine among `paths` that `text` names (a relative "../../tmp/x" does not count). */
/** A chart's output (Plotly JSON titled "<Plotly figure: …>"), as against a picture's ("<image: …>"). */
function isChart(output: NotebookOutput): boolean {
  return output.data?.["application/vnd.plotly.v1+json"] !== undefined && joined(output.data["text/plain"] as string).startsWith("<Plotly figure:");
}

function machinePathsIn(text: string, paths: string[]): string[] {
  return paths.filter((p) => new RegExp(`(?<![\\w.])${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`).test(text));
}

describe("a TypeScript notebook on the tslab kernel", () => {
  it("imports tfjs-node and the project's helpers by name, on the native backend", async () => {
    const dir = scratchDir("import");
    const file = path.join(dir, "probe.ipynb");
    fs.writeFileSync(file, JSON.stringify(makeNotebook([
      'import * as tf from "@tensorflow/tfjs-node";\nimport { plotHistory } from "deep-convolution";',
      'console.log(tf.getBackend(), plotHistory({ title: "t", yLabel: "y", series: { a: [7, 9] } }).data[0]!.y.join("+"), tf.tensor([1, 2, 3]).sum().dataSync()[0]);',
    ])));
    const { status, stderr, executed } = await executeNotebook(file);
    expect(status, stderr).toBe(0);
    expect(joined(executed!.cells[1]!.outputs![0]!.text)).toBe("tensorflow 7+9 6\n");
  });
});

/** The project's notebook with `edit` applied, run headless on quick parameters: its outputs, none of them an error. */
async function runEdited(edit: (nb: Notebook) => void) {
  const nb = JSON.parse(fs.readFileSync(path.join(root, "notebooks", "deep-convolution.ipynb"), "utf8")) as Notebook;
  edit(nb);
  const file = path.join(scratchDir("edited"), "deep-convolution.ipynb");
  fs.writeFileSync(file, JSON.stringify(nb));
  const { status, stderr, executed } = await executeNotebook(file, { epochs: 1, sampleLimit: 1000, outputDir: tempDir("edited-output") });
  expect(status, stderr).toBe(0);
  const outputs = outputsOf(executed!);
  expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
  return { executed: executed!, outputs };
}

describe("npm start on the Deep Convolution notebook", () => {
  const start = (args: string[]) => run(process.execPath, [path.join(root, "scripts", "start.mjs"), ...args]);

  it("refuses a bad parameter before starting anything, naming it", async () => {
    const out = tempDir("bad");
    const result = await start(["-p", "epochs", "six", "-p", "outputDir", out]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('epochs = "six": must be a whole number greater than 0, e.g. epochs = 6.');
    expect(fs.readdirSync(out)).toEqual([]);
  });

  const out = tempDir("start");

  it("runs every cell with quick parameters and writes the notebook, its HTML, metrics.json and the models", async () => {
    const result = await start(["-p", "epochs", "1", "-p", "sampleLimit", "2000", "-p", "outputDir", out]);
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["deep-convolution.html", "deep-convolution.ipynb", "deep-convolution.pdf", "metrics.json", "models"]);
    for (const model of ["model_1", "model_2", "model_3"]) {
      expect(fs.readdirSync(path.join(out, "models", model)).sort()).toEqual(["model.json", "weights.bin"]);
    }
    // the terminal got the progress and the final metrics
    expect(result.stdout).toMatch(/13\/13 \[=+\] - \d+s \d+ms\/step - loss: /);
    expect(result.stdout).toMatch(/model_1: test loss \d\.\d{4}, test accuracy \d\.\d{4} after 1 epoch/);
    expect(result.stdout).toMatch(/deep-convolution\.pdf \(A4, printed by (the bundled Chromium \(@sparticuz\/chromium\)|\/\S+)\)/);

    const nb = JSON.parse(fs.readFileSync(path.join(out, "deep-convolution.ipynb"), "utf8")) as Notebook;
    const outputs = outputsOf(nb);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    const source = (i: number) => joined(nb.cells[i]!.source);
    const textOf = (cell: number) => outputs.filter((o) => o.cell === cell).map((o) => joined(o.text) + joined(o.data?.["text/plain"] as string)).join("");
    const cellWith = (snippet: string, from = 0) => nb.cells.findIndex((c, i) => i >= from && joined(c.source).includes(snippet));

    expect(nb.cells[cellWith("// Parameters injected")]!.metadata!.tags).toEqual(["injected-parameters"]);
    expect(textOf(cellWith("data.yTrain.shape"))).toBe("[ 2000 ]\n");
    expect(textOf(cellWith("// Reshape"))).toBe("[ 2000, 28, 28, 1 ]\n[ 2000, 28, 28, 1 ]\n");
    // the layers are in the cells, one model.add per layer as in the seed, and the summaries read like Keras's
    expect(nb.cells.filter((c) => c.cell_type === "code").map((c) => joined(c.source).match(/\.add\(/g)?.length ?? 0).reduce((a, b) => a + b)).toBe(25);
    const summary1 = textOf(cellWith("model.summary()"));
    expect(summary1).toMatch(/^Model: "model_1"\n/);
    expect(summary1).toContain(" conv2d (Conv2D)              (None, 26, 26, 32)        320\n");
    expect(summary1).toContain("Total params: 1,199,882\nTrainable params: 1,199,882\nNon-trainable params: 0\n");
    const summary2 = textOf(cellWith("model2.summary()"));
    expect(summary2).toMatch(/^Model: "model_2"\n/);
    for (const layer of ["conv2d_2 (Conv2D)", "max_pooling2d_1 (MaxPooling2D)", "dropout (Dropout)", "dropout_1 (Dropout)", "dense_3 (Dense)"]) expect(summary2).toContain(` ${layer} `);
    expect(summary2).toContain("Total params: 1,199,882\n");
    const progressOf = (cell: number) => outputs.filter((o) => o.cell === cell && o.output_type === "display_data" && !o.data?.["application/vnd.plotly.v1+json"]).map((o) => joined(o.data!["text/plain"] as string)).join("");
    const printedBy = (cell: number) => outputs.filter((o) => o.cell === cell && o.output_type === "stream").map((o) => joined(o.text)).join("");
    const fits = [[cellWith("await model.fit(data.xTrain"), "model_1"], [cellWith("await model2.fit(data.xTrain"), "model_2"], [cellWith("await model3.fit(data.xTrain"), "model_3"]] as const;
    for (const [fit, saved] of fits) {
      // every fit on the fast path, with no note of a slower one
      expect(progressOf(fit)).toMatch(/^Epoch 1\/1\n13\/13 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/);
      // saved by model.save in tfjs's format, named relative to the notebook's folder
      expect(printedBy(fit)).toMatch(new RegExp(`^Saved in \\.\\./.*models/${saved}\\n$`));
      // the live chart's last frame: both curves of each side, and its image
      const live = outputs.find((o) => o.cell === fit && o.data?.["application/vnd.plotly.v1+json"])!;
      expect((live.data!["application/vnd.plotly.v1+json"] as { data: Array<{ name: string }> }).data.map((t) => t.name)).toEqual(["loss", "val_loss", "accuracy", "val_accuracy"]);
      expect(live.data!["image/png"]).toBeDefined();
    }
    // which kernel trained each op, measured on this machine or read from its cache, in the notebook's metadata
    const kernels = (nb.metadata as { deep_convolution?: { kernels?: Array<{ op: string; shape: string; kernel: string; how: string }> } }).deep_convolution?.kernels ?? [];
    expect(new Set(kernels.map((k) => k.op))).toEqual(new Set(["conv2d", "conv2dRelu", "conv2dFilterGrad", "conv2dInputGrad", "maxPool", "matMul"]));
    expect(kernels.find((k) => k.op === "conv2dFilterGrad" && k.shape.startsWith("x [128,26,26,32]"))?.how).toMatch(/^(measured|cached)$/);
    const tables = outputs.filter((o) => o.data?.["text/html"]);
    expect(tables.length).toBe(6); // two histories, two per-class tables, the comparison, models 2 and 3 side by side
    expect(joined(tables[0]!.data!["text/html"] as string)).toMatch(/<table class="dataframe".*<th>val_accuracy<\/th>/s);
    const charts = outputs.filter(isChart);
    expect(charts.map((c) => joined(c.data!["text/plain"] as string))).toEqual([
      "<Plotly figure: model_1: training history>", "<Plotly figure: model accuracy>", "<Plotly figure: LOSS>",
      "<Plotly figure: model_1: confusion matrix (test set)>", "<Plotly figure: model_2: training history>",
      "<Plotly figure: model accuracy>", "<Plotly figure: model_2: confusion matrix (test set)>", "<Plotly figure: model_3: training history>",
    ]);
    for (const chart of charts) {
      // every chart also carries its image, drawn at the figure's own size
      const png = Buffer.from(joined(chart.data!["image/png"] as string), "base64");
      const { layout } = chart.data!["application/vnd.plotly.v1+json"] as { layout: { width: number; height: number } };
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([layout.width, layout.height]);
      expect(png.length).toBeGreaterThan(5_000); // axes and data, not a blank canvas
    }
    const heatmap = charts[3]!.data!["application/vnd.plotly.v1+json"] as { data: Array<{ z: number[][] }> };
    expect(heatmap.data[0]!.z.flat().reduce((a, b) => a + b, 0)).toBe(2000); // every test example counted once
    const comparison = charts[5]!.data!["application/vnd.plotly.v1+json"] as { data: Array<{ name: string }> };
    expect(comparison.data.map((t) => t.name)).toEqual(["model_1_accuracy", "model_2_accuracy", "model_1_val_accuracy", "model_2_val_accuracy"]);
    // the seed prints test loss then accuracy, each on its own line
    for (const cell of [cellWith("console.log(loss);"), cellWith("console.log(loss2);")]) {
      const [loss, accuracy] = textOf(cell).trim().split("\n").map(Number);
      expect(loss).toBeGreaterThan(0);
      expect(accuracy).toBeGreaterThan(0.3);
      expect(accuracy).toBeLessThanOrEqual(1);
    }

    // pictures drawn from the tensors: the sample grid, one gallery of mistakes per model, what model_1's
    // convolutions learned (filters, feature maps of test digit 0, filter patterns, Grad-CAM) and model_2's feature maps
    const images = outputs.filter((o) => o.data?.["image/png"] && joined(o.data["text/plain"] as string).startsWith("<image:"));
    const maps = (model: string, conv: string, conv1: string, pool: string) => [
      `<image: ${model}: the 32 feature maps of ${conv} (26×26×32) for test image 0, labelled 7>`,
      `<image: ${model}: the 64 feature maps of ${conv1} (24×24×64) for test image 0, labelled 7 (first 32 of 64 channels)>`,
      `<image: ${model}: the 64 feature maps of ${pool} (12×12×64) for test image 0, labelled 7 (first 32 of 64 channels)>`,
    ];
    expect(images.map((o) => joined(o.data!["text/plain"] as string))).toEqual([
      "<image: the first 24 training images>", "<image: the 12 most confident mistakes>",
      "<image: model_1: the 32 filters of conv2d, red positive and blue negative weights>",
      ...maps("model_1", "conv2d", "conv2d_1", "max_pooling2d"),
      "<image: model_1: the input pattern that most activates each of the first 16 filters of conv2d_1, found by gradient ascent>",
      expect.stringMatching(/^<image: model_1: Grad-CAM heat maps over 6 test digits \((true \d predicted \d(; )?){6}\)>$/),
      "<image: the 12 most confident mistakes>",
      ...maps("model_2", "conv2d_2", "conv2d_3", "max_pooling2d_1"),
      "<image: training image 0 as it is, then 15 times augmented>",
    ]);
    expect(textOf(cellWith("describeGeneralisation(model2.name"))).toMatch(
      /^model_1: after 1 epoch, training accuracy \d\.\d{4} against validation \d\.\d{4} \(gap [+−]\d\.\d{4}\);.*\nmodel_2: after 1 epoch/,
    );

    const metrics = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    for (const name of ["model_1", "model_2", "model_3"]) {
      expect(metrics.models[name].history.val_accuracy).toHaveLength(1);
      expect(metrics.models[name].testAccuracy).toBeGreaterThan(0.3);
      expect(metrics.models[name].generalisation).toMatchObject({ epochs: 1, bestValLossEpoch: 1 });
      expect(metrics.models[name].training).toEqual({ epochs: 1, batchSize: 128, steps: 13, samples: 1600, validationSamples: 400, metrics: ["loss", "accuracy", "val_loss", "val_accuracy"] });
      expect(metrics.models[name].generalisation.accuracyGap).toBeCloseTo(
        metrics.models[name].history.accuracy[0] - metrics.models[name].history.val_accuracy[0], 10);
    }
    const html = fs.readFileSync(path.join(out, "deep-convolution.html"), "utf8");
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)?.length).toBe(21);
    expect(html).toContain("Question 15");

    // The PDF students hand in: A4, every question, and at least every image output of the notebook.
    const pages = await readPdf(fs.readFileSync(path.join(out, "deep-convolution.pdf")));
    expect(pages.every((p) => Math.round(p.width) === 596 && Math.round(p.height) === 843)).toBe(true);
    const pdfText = pages.map((p) => p.text).join("\n");
    for (const question of [10, 11, 12, 13, 14, 15]) expect(pdfText).toContain(`Question ${question}`);
    expect(pdfText).toMatch(/Epoch 1\/1/);
    expect(pdfText).toMatch(/seconds_\s*per_\s*epoch/); // the comparison table's last columns are on the page
    for (const page of pages) expect(page.textRight).toBeLessThanOrEqual(page.width - 20); // nothing past the 10 mm margin
    const imageOutputs = outputs.filter((o) => o.data?.["image/png"]).length;
    expect(imageOutputs).toBe(21);
    expect(pages.reduce((n, p) => n + p.images, 0)).toBeGreaterThanOrEqual(imageOutputs);
    // Titled, tagged, bookmarked, and every image described by what it shows.
    const title = "Network Analysis — Group Assignment: Deep Convolution";
    expect(html).toContain(`<title>${title}</title>`);
    const structure = await readPdfStructure(fs.readFileSync(path.join(out, "deep-convolution.pdf")));
    expect(structure).toMatchObject({ title, tagged: true });
    const bookmarks = structure.outline.map((b) => b.trim());
    expect(bookmarks.slice(0, 4)).toEqual(["Network Analysis — Group Assignment", "Deep Convolution", "Group", "Data preparation"]);
    for (const question of [10, 11, 12, 13, 14, 15]) expect(bookmarks).toContain(`Question ${question}`);
    expect(bookmarks.filter((b) => b.startsWith("Beyond the original"))).toEqual([
      "Beyond the original: the training images", "Beyond the original: where model 1 goes wrong",
      "Beyond the original: what model 1's convolutions learned", "Beyond the original: where model 2 goes wrong", "Beyond the original: what model 2 sees",
      "Beyond the original: augmentation",
    ]);
    for (const role of ["H1", "H3", "P", "Code", "Table", "Figure"]) expect(structure.roles).toContain(role);
    // each image's alt text is the one its output carries, and says what it shows
    const alts = outputs.filter((o) => o.data?.["image/png"]).map((o) => (o.metadata?.["image/png"] as { alt?: string } | undefined)?.alt);
    expect(structure.figures.map((f) => f.alt)).toEqual(alts);
    for (const alt of [
      "the first 24 training images",
      "model_1: training history; loss: loss and val_loss against epoch (1 to 1); accuracy: accuracy and val_accuracy against epoch (1 to 1)",
      "LOSS; loss: loss and val_loss against epoch (1 to 1)",
      "model_1: confusion matrix (test set); heatmap of true (rows, 0 to 9) by predicted (columns, 0 to 9)",
      "model accuracy; accuracy: model_1_accuracy, model_2_accuracy, model_1_val_accuracy and model_2_val_accuracy against epoch (1 to 1)",
      "model_1: the 32 filters of conv2d, red positive and blue negative weights",
    ]) expect(alts).toContain(alt);

    // Nothing handed in names this machine's folders.
    const machinePaths = [root, out, os.homedir()].filter((p) => p.length > 1);
    expect(machinePathsIn(fs.readFileSync(path.join(out, "deep-convolution.ipynb"), "utf8"), machinePaths)).toEqual([]);
    expect(machinePathsIn(html, machinePaths)).toEqual([]);
    expect(machinePathsIn(pdfText, machinePaths)).toEqual([]);
  });

  it("npm run pdf prints a saved notebook, on Letter when asked, and names a wrong file in one sentence", async () => {
    const pdf = (args: string[]) => run(process.execPath, [path.join(root, "scripts", "pdf.mjs"), ...args]);
    const target = path.join(tempDir("pdf"), "handed-in.pdf");
    const printed = await pdf([path.join(out, "deep-convolution.ipynb"), "--paper", "letter", "-o", target]);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/Wrote .*handed-in\.pdf \(Letter, \d+ KB, printed by (the bundled Chromium \(@sparticuz\/chromium\)|\/\S+)\)/);
    const pages = await readPdf(fs.readFileSync(target));
    expect(pages.every((p) => Math.round(p.width) === 612 && Math.round(p.height) === 792)).toBe(true);
    expect(pages.map((p) => p.text).join("\n")).toContain("Question 14");
    expect(pages.reduce((n, p) => n + p.images, 0)).toBeGreaterThanOrEqual(10);
    expect(printed.stderr).not.toMatch(/Note:/);

    // a student's copy: its own first heading is its title, and its metadata's authors its author
    const copy = JSON.parse(fs.readFileSync(path.join(out, "deep-convolution.ipynb"), "utf8")) as Notebook;
    copy.cells[0]!.source = "# Deep Convolution — group 7\n\nOur hand-in.";
    copy.metadata["authors"] = [{ name: "Ada Lovelace" }, { name: "Alan Turing" }];
    const copyFile = path.join(tempDir("pdf"), "group7.ipynb");
    fs.writeFileSync(copyFile, JSON.stringify(copy));
    expect((await pdf([copyFile])).status).toBe(0);
    expect(await readPdfStructure(fs.readFileSync(copyFile.replace(/\.ipynb$/, ".pdf")))).toMatchObject({
      title: "Deep Convolution — group 7", author: "Ada Lovelace, Alan Turing", tagged: true,
    });

    // a notebook saved with a cell not run: printed all the same, with the check's note
    const unrun = JSON.parse(fs.readFileSync(path.join(out, "deep-convolution.ipynb"), "utf8")) as Notebook;
    unrun.cells.find((c) => joined(c.source).startsWith("data.yTrain.shape"))!.execution_count = null;
    const unrunFile = path.join(tempDir("pdf"), "unrun.ipynb");
    fs.writeFileSync(unrunFile, JSON.stringify(unrun));
    const noted = await pdf([unrunFile]);
    expect(noted.status, noted.stderr).toBe(0);
    expect(noted.stderr).toMatch(/^Note: 1 code cell was not run, first cell \d+ \(data\.yTrain\.shape\)\. In JupyterLab: Kernel → Restart Kernel and Run All Cells, then save\./m);
    expect(fs.existsSync(unrunFile.replace(/\.ipynb$/, ".pdf"))).toBe(true);

    const notNotebook = path.join(tempDir("pdf"), "notes.ipynb");
    fs.writeFileSync(notNotebook, "my answers");
    const refused = await pdf([notNotebook]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/notes\.ipynb is not a Jupyter notebook: it is not JSON .*Give the \.ipynb file that JupyterLab saves\./);
    expect((await pdf(["missing.ipynb"])).stderr).toContain("missing.ipynb does not exist.");
    expect((await pdf([path.join(out, "deep-convolution.ipynb"), "--paper", "A5"])).stderr).toContain('Paper "A5" is not one of A4, Letter.');
  });

  it("npm run check passes what npm start wrote, and fails a copy run out of order with an error, naming both", async () => {
    const check = (file: string) => run(process.execPath, [path.join(root, "scripts", "check.mjs"), file]);
    const executed = path.join(out, "deep-convolution.ipynb");
    const passed = await check(executed);
    expect(passed.status, passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/^deep-convolution\.ipynb is ready to hand in: \d+ code cells ran in order with no error, 21 charts and pictures with their images, 5 answers written\.\n/);
    expect(passed.stdout).toMatch(/\nParameters: epochs 1, .*sampleLimit 2000, .*\n/);
    expect(passed.stdout).toMatch(/model_1: test loss \d\.\d{4}, test accuracy \d\.\d{4}\nmodel_2: test loss \d\.\d{4}, test accuracy \d\.\d{4}\nmodel_3: test loss \d\.\d{4}, test accuracy \d\.\d{4}/);

    const nb = JSON.parse(fs.readFileSync(executed, "utf8")) as Notebook;
    const a = nb.cells.findIndex((c) => joined(c.source).startsWith("data.yTrain.shape"));
    const b = nb.cells.findIndex((c) => joined(c.source).startsWith("// Reshape"));
    [nb.cells[a]!.execution_count, nb.cells[b]!.execution_count] = [nb.cells[b]!.execution_count, nb.cells[a]!.execution_count];
    const evaluation = nb.cells.find((c) => joined(c.source).includes("console.log(loss2)"))!;
    evaluation.outputs!.push({ output_type: "error", ename: "Error", evalue: "loss2 is not defined" });
    const tampered = path.join(tempDir("check"), "handed-in.ipynb");
    fs.writeFileSync(tampered, JSON.stringify(nb));
    const failed = await check(tampered);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^handed-in\.ipynb is not ready to hand in \(\d problems\):/);
    expect(failed.stderr).toContain(`cell ${a + 1} (data.yTrain.shape) ran as [${nb.cells[a]!.execution_count}] after`);
    expect(failed.stderr).toContain(`cell ${b + 1} (// Reshape (from 60000x28x28 to 60000x28x28x1)) ran as [${nb.cells[b]!.execution_count}] after cell ${a + 1} (data.yTrain.shape)`);
    expect(failed.stderr).toContain("shows an error: Error: loss2 is not defined. Fix it");
    expect((await check(path.join(root, "package.json"))).stderr).toContain("package.json is not a Jupyter notebook (it has no cells or nbformat).");
  });

  it("runs with validationSplit 0: trains on every example, and the tables, charts and answers say there is no validation", async () => {
    const noValidation = tempDir("no-validation");
    const result = await start(["-p", "validationSplit", "0", "-p", "epochs", "1", "-p", "sampleLimit", "1000", "-p", "outputDir", noValidation]);
    expect(result.status, result.stderr).toBe(0);
    const nb = JSON.parse(fs.readFileSync(path.join(noValidation, "deep-convolution.ipynb"), "utf8")) as Notebook;
    const outputs = outputsOf(nb);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    expect(result.stdout).toMatch(/Epoch 1\/1\n8\/8 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n/);
    expect(result.stdout).not.toContain("val_loss:");
    const tables = outputs.filter((o) => o.data?.["text/html"]).map((o) => joined(o.data!["text/html"] as string));
    expect(tables[0]).toContain("<th>accuracy</th>");
    expect(tables[0]).not.toContain("val_");
    const charts = outputs.filter(isChart).map((o) => o.data!["application/vnd.plotly.v1+json"] as { data: Array<{ name: string }> });
    expect(charts[0]!.data.map((t) => t.name)).toEqual(["loss", "accuracy"]); // the live chart
    expect(charts[1]!.data.map((t) => t.name)).toEqual(["accuracy"]); // Question 10's accuracy plot
    expect(charts[5]!.data.map((t) => t.name)).toEqual(["model_1_accuracy", "model_2_accuracy"]);
    expect(outputs.every((o) => o.data?.["application/vnd.plotly.v1+json"] === undefined || o.data["image/png"] !== undefined)).toBe(true);
    const said = outputs.map((o) => joined(o.text)).join("");
    expect(said).toMatch(/model_2: after 1 epoch, training accuracy \d\.\d{4} and training loss \d\.\d{4}; no validation data \(validationSplit 0\)/);
    const metrics = JSON.parse(fs.readFileSync(path.join(noValidation, "metrics.json"), "utf8"));
    expect(metrics.models.model_1.training).toMatchObject({ samples: 1000, validationSamples: 0 });
    expect(metrics.models.model_1.generalisation).toMatchObject({ epochs: 1, valLoss: null, accuracyGap: null });
    expect(Object.keys(metrics.models.model_1.history).sort()).toEqual(["accuracy", "loss", "seconds"]);
  });

  it("runs a student's edit: filters: 48 instead of 64 trains and shows Keras's count, 900,346 parameters", async () => {
    const { executed, outputs } = await runEdited((nb) => {
      for (const cell of nb.cells) cell.source = joined(cell.source).replaceAll("filters: 64", "filters: 48");
    });
    const summaries = outputs.map((o) => joined(o.text)).filter((t) => t.startsWith("Model: "));
    expect(summaries).toHaveLength(3); // models 1, 2 and 3
    for (const summary of summaries) {
      expect(summary).toMatch(/ conv2d_\d \(Conv2D\) +\(None, 24, 24, 48\) +13872\n/);
      expect(summary).toContain("Total params: 900,346");
    }
    const evaluation = executed.cells.findIndex((c) => joined(c.source).includes("console.log(loss);"));
    const [, accuracy] = outputs.filter((o) => o.cell === evaluation).map((o) => joined(o.text)).join("").trim().split("\n").map(Number);
    expect(accuracy).toBeGreaterThan(0.2); // it trained (chance is 0.1)
  }, 180_000); // the whole notebook, three models

  it("runs a student's variant with padding \"same\" and a third convolution, and shows what all three convolutions learned", async () => {
    const first = 'model.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }));';
    const second = 'model.add(layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }));';
    const { outputs } = await runEdited((nb) => {
      const cell = nb.cells.find((c) => joined(c.source).includes(first))!;
      expect(joined(cell.source)).toContain(second);
      cell.source = joined(cell.source)
        .replace(first, first.replace('activation: "relu"', 'activation: "relu", padding: "same"'))
        .replace(second, `${second}\nmodel.add(layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", padding: "same" }));`);
    });
    const pictures = outputs.map((o) => joined(o.data?.["text/plain"] as string)).filter((t) => t.startsWith("<image: model_1"));
    expect(pictures.slice(0, 5)).toEqual([
      "<image: model_1: the 32 filters of conv2d, red positive and blue negative weights>",
      "<image: model_1: the 32 feature maps of conv2d (28×28×32) for test image 0, labelled 7>",
      "<image: model_1: the 64 feature maps of conv2d_1 (26×26×64) for test image 0, labelled 7 (first 32 of 64 channels)>",
      "<image: model_1: the 32 feature maps of conv2d_2 (26×26×32) for test image 0, labelled 7>",
      "<image: model_1: the 32 feature maps of max_pooling2d (13×13×32) for test image 0, labelled 7>",
    ]);
    expect(pictures[5]).toBe("<image: model_1: the input pattern that most activates each of the first 16 filters of conv2d_2, found by gradient ascent>");
    expect(pictures[6]).toMatch(/^<image: model_1: Grad-CAM heat maps over 6 test digits/);
  }, 180_000); // the whole notebook, three models

  it("runs on Fashion-MNIST, naming classes instead of digits", async () => {
    const fashion = tempDir("fashion");
    const source = fashionMnist();
    const files = source.real ? [] : ["-p", "dataDir", source.dataDir!, "-p", "verifyChecksums", "false"];
    const result = await start(["-p", "dataset", "fashion-mnist", "-p", "epochs", "1", "-p", "sampleLimit", "1000", "-p", "outputDir", fashion, ...files]);
    expect(result.status, result.stderr).toBe(0);
    const nb = JSON.parse(fs.readFileSync(path.join(fashion, "deep-convolution.ipynb"), "utf8")) as Notebook;
    const outputs = outputsOf(nb);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    const classTables = outputs.filter((o) => joined(o.data?.["text/html"] as string).includes("<th>precision</th>"));
    expect(classTables).toHaveLength(2);
    expect(joined(classTables[0]!.data!["text/html"] as string)).toContain("<th>Ankle boot</th>");
    const heatmap = outputs.find((o) => joined(o.data?.["text/plain"] as string).includes("confusion matrix"))!;
    expect((heatmap.data!["application/vnd.plotly.v1+json"] as { data: Array<{ x: string[] }> }).data[0]!.x).toContain("T-shirt/top");
  });
});
