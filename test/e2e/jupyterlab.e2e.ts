/**
 * The users' real surface: JupyterLab in Chromium. Opens the notebook, types
 * quick parameters into its parameters cell, runs all cells and checks what a
 * student sees; then opens a notebook written by `npm start`, untrusted, and
 * checks the charts still show as images.
 */
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseBrowser, launchBrowser } from "../../src/browser/browser";
import { makeNotebook, root, run, scratchDir, startLab, type RunningLab } from "../helpers";
import { readPdf } from "../pdfRead";

const workDir = scratchDir("e2e");
const screenshot = path.join(root, "output", "jupyterlab.png");
let lab: RunningLab;
let base: string;
let browser: Browser;

beforeAll(async () => {
  fs.copyFileSync(path.join(root, "notebooks", "deep-convolution.ipynb"), path.join(workDir, "deep-convolution.ipynb"));
  // What npm start writes, for the untrusted view (quick parameters).
  const started = await run(process.execPath, [path.join(root, "scripts", "start.mjs"),
    "-p", "epochs", "1", "-p", "sampleLimit", "2000", "-p", "outputDir", path.join(workDir, "executed")]);
  if (started.status !== 0) throw new Error(`npm start failed:\n${started.stderr}`);

  lab = await startLab(workDir);
  base = `http://127.0.0.1:${lab.port}`;
  // The browser that draws the charts: a system one, else the bundled Chromium.
  browser = await launchBrowser(await chooseBrowser());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
});

let workspaces = 0;

/** Opens `file` alone: a fresh JupyterLab workspace, so earlier tabs are not restored beside it. */
async function openNotebook(file: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${base}/lab/workspaces/e2e-${++workspaces}/tree/${file}?reset&token=${lab.token}`);
  await page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 90_000 });
  return page;
}

const QUICK_PARAMETERS = [
  "let epochs = 2;",
  "let batchSize = 128;",
  "let learningRate = 1.0;",
  "let validationSplit = 0.2;",
  "let dropoutConv = 0.25;",
  "let dropoutDense = 0.5;",
  "let sampleLimit: number | null = 2000;",
  "let seed = 42;",
  "let dataDir: string | null = null;",
  'let outputDir = "e2e-output";',
  'let dataset = "mnist";',
  "let verifyChecksums = true;",
].join("\n");

describe("the notebook in JupyterLab", () => {
  it("runs with typed parameters and shows progress, a live chart that changes during the fit, tables, charts and test metrics", async () => {
    const page = await openNotebook("deep-convolution.ipynb");
    // The notebook asks for the TypeScript kernel and JupyterLab starts it.
    await expect.poll(() => page.locator(".jp-StatusBar-TextItem", { hasText: "TypeScript" }).count(), { timeout: 90_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator(".jp-Toolbar-kernelName").innerText(), { timeout: 90_000 }).toBe("TypeScript");

    // Type the quick parameters into the parameters cell, as a user would.
    const cells = page.locator(".jp-CodeCell");
    const index = (await cells.allInnerTexts()).findIndex((t) => t.includes("let epochs = 6;"));
    expect(index).toBeGreaterThan(0);
    const parameters = cells.nth(index); // by position: its text is about to change
    await parameters.locator(".cm-content").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(QUICK_PARAMETERS);
    await expect.poll(() => parameters.locator(".cm-content").innerText()).toBe(QUICK_PARAMETERS);

    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.getByRole("menuitem", { name: "Run All Cells", exact: true }).click();
    // While model 1 trains, its live chart is redrawn in place: sample what it shows until the fit ends.
    const fit = page.locator(".jp-CodeCell", { hasText: "await model.fit(data.xTrain" });
    const frames = new Set<string>();
    for (let i = 0; i < 1500 && !(await fit.locator(".jp-OutputArea").innerText()).includes("Saved in"); i++) {
      await fit.scrollIntoViewIfNeeded().catch(() => undefined); // JupyterLab renders only the cells in view
      const frame = await fit.locator(".jp-RenderedPlotly").first().evaluate((el) => {
        // The renderer's own element is Plotly's graph div; it holds the traces drawn.
        const plot = el as HTMLElement & { data?: Array<{ x: number[] }> };
        if (plot?.data) return JSON.stringify(plot.data.map((t) => t.x));
        return el.querySelector("img")?.getAttribute("src")?.slice(-64) ?? null;
      }).catch(() => null);
      if (frame !== null) frames.add(frame);
      await page.waitForTimeout(100);
    }
    expect(frames.size, [...frames].join("\n")).toBeGreaterThanOrEqual(2);
    const last = page.locator(".jp-CodeCell", { hasText: "writeMetrics(outputDir" });
    await expect.poll(() => last.locator(".jp-OutputArea").innerText(), { timeout: 300_000, interval: 2000 }).toMatch(/Saved .*e2e-output\/metrics\.json/);

    const outputs = page.locator(".jp-OutputArea-output");
    const stderr = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allInnerTexts();
    expect(stderr.filter((t) => /Error/.test(t))).toEqual([]);
    const text = (await outputs.allInnerTexts()).join("\n");
    expect(text).toMatch(/Epoch 1\/2\n13\/13 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\nEpoch 2\/2\n13\/13 \[=+\] - /);
    expect(text).toMatch(/Model: "model_1"\n[^]*\(None, 26, 26, 32\)[^]*Total params: 1,199,882/);
    expect(await page.locator(".jp-OutputArea-output table.dataframe").count()).toBe(6);
    expect(await page.locator("table.dataframe th", { hasText: "val_accuracy" }).count()).toBeGreaterThan(0);
    // Plotly figures, the 8 charts and the 13 pictures: JupyterLab's Plotly renderer first shows the stored PNG and
    // draws the live figure when the pointer comes over it; then its SVG has a line per series, or a heatmap per image.
    const charts = page.locator(".jp-OutputArea-output.jp-RenderedPlotly");
    expect(await charts.count()).toBe(21);
    // the training images (24 heatmaps), model 1's live chart, accuracy, loss, model 1's confusion matrix, model 2's
    // live chart, the comparison, model 2's confusion matrix, model 3's live chart: lines per chart (0: heatmaps)
    const figures = [[0, 0, 24], [1, 4], [2, 2], [3, 2], [4, 0, 1], [12, 4], [13, 4], [14, 0, 1], [20, 4]] as const;
    for (const [i, lines, heatmaps] of figures) {
      const chart = charts.nth(i);
      await chart.scrollIntoViewIfNeeded();
      expect(await chart.locator("img.plot-img").getAttribute("src")).toMatch(/^data:image\/png;base64,/);
      // The pointer coming over the image (it may already have, on its way to another chart).
      if ((await chart.locator(".plot-container").count()) === 0) await chart.locator("img.plot-img").dispatchEvent("mouseenter");
      await chart.locator(".plot-container .main-svg").first().waitFor({ timeout: 30_000 });
      if (lines > 0) {
        await expect.poll(() => chart.locator(".main-svg .scatterlayer path.js-line").count(), { timeout: 10_000 }).toBe(lines);
        expect(await chart.locator(".main-svg .scatterlayer .trace").count()).toBe(lines);
      } else {
        await expect.poll(() => chart.locator(".main-svg .heatmaplayer image").count(), { timeout: 10_000 }).toBe(heatmaps);
      }
    }
    expect(await charts.nth(2).locator(".gtitle").textContent()).toBe("model accuracy");
    // Test loss and accuracy, printed like the seed
    const evaluation = await page.locator(".jp-CodeCell", { hasText: "console.log(loss);" }).locator(".jp-OutputArea").innerText();
    const [loss, accuracy] = evaluation.trim().split("\n").map(Number);
    expect(loss).toBeGreaterThan(0);
    expect(accuracy).toBeGreaterThan(0.3);

    // A picture for the README: the first training run and its live chart.
    await page.setViewportSize({ width: 1400, height: 1600 });
    await fit.evaluate((el) => el.scrollIntoView({ block: "start" }));
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(50_000);
    await page.close();
  });

  it("shows the charts of a notebook written by npm start as images when it is not trusted", async () => {
    const page = await openNotebook("executed/deep-convolution.ipynb");
    // eight charts and thirteen pictures, all Plotly figures: their stored PNGs
    await expect.poll(() => page.locator(".jp-OutputArea-output img").count(), { timeout: 60_000 }).toBe(21);
    for (const img of await page.locator(".jp-OutputArea-output img").all()) {
      expect(await img.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
      expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(300);
    }
    expect(await page.locator(".jp-RenderedPlotly img.plot-img").count()).toBe(21);
    // Untrusted, Plotly's renderer draws no live chart and shows the stored PNG instead; the tables still show.
    expect(await page.locator(".jp-OutputArea-output .plot-container").count()).toBe(0);
    expect(await page.locator(".jp-OutputArea-output table.dataframe").count()).toBe(6);
    await page.close();
  });

  it("offers the hand-in PDF in File → Save and Export Notebook As, printed like npm run pdf", async () => {
    const page = await openNotebook("executed/deep-convolution.ipynb");
    await page.getByRole("menuitem", { name: "File", exact: true }).click();
    await page.locator(".lm-Menu-item", { hasText: "Save and Export Notebook As" }).hover();
    const entry = page.getByRole("menuitem", { name: "PDF_Chromium", exact: true });
    await entry.waitFor({ timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 120_000 }), entry.click()]);
    expect(download.suggestedFilename()).toBe("deep-convolution.pdf");
    const pages = await readPdf(fs.readFileSync((await download.path())!));
    const text = pages.map((p) => p.text).join("\n");
    for (const question of [10, 11, 12, 13, 14, 15]) expect(text).toContain(`Question ${question}`);
    expect(pages.reduce((n, p) => n + p.images, 0)).toBeGreaterThanOrEqual(10);
    await page.close();
  });
  it("shows every line of a cell that prints 20,000 at once, and the cells after it run and show theirs", async () => {
    fs.writeFileSync(path.join(workDir, "long-output.ipynb"), JSON.stringify(makeNotebook([
      "for (let i = 0; i < 20000; i++) console.log(`line ${i}`);",
      'console.log("the next cell ran");',
    ])));
    const page = await openNotebook("long-output.ipynb");
    await expect.poll(() => page.locator(".jp-Toolbar-kernelName").innerText(), { timeout: 90_000 }).toBe("TypeScript");
    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.getByRole("menuitem", { name: "Run All Cells", exact: true }).click();
    const cells = page.locator(".jp-CodeCell");
    await expect.poll(async () => (await cells.nth(1).locator(".jp-OutputArea").innerText()).trim(), { timeout: 120_000 }).toBe("the next cell ran");
    // the kernel shown idle again, not left busy by a lost status
    await expect.poll(() => page.locator(".jp-Notebook-ExecutionIndicator").getAttribute("data-status"), { timeout: 30_000 }).toBe("idle");
    const lines = (await cells.nth(0).locator(".jp-OutputArea").innerText()).trim().split("\n");
    expect(lines).toEqual(Array.from({ length: 20000 }, (_, i) => `line ${i}`));
    await page.close();
  });
});
