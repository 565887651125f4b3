import { describe, expect, it } from "vitest";
import { checkSubmission, NotANotebookError, parseNotebook } from "../../src/notebook/submission";

const png = "iVBORw0KGgo=";
/** A small executed notebook shaped like the project's: parameters, a chart, the evaluation, an answer. */
function executed() {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# Deep Convolution", metadata: {} },
      { cell_type: "code", execution_count: 1, source: "let epochs = 6;\nlet sampleLimit: number | null = null;", metadata: { tags: ["parameters"] }, outputs: [] },
      { cell_type: "code", execution_count: 2, source: "// Parameters injected by npm start\nconst epochs = 1;\nconst sampleLimit = 2000;", metadata: { tags: ["injected-parameters"] }, outputs: [] },
      {
        cell_type: "code", execution_count: 3, source: "// Accuracy\nawait show(plotHistory(...));", metadata: {},
        outputs: [{ output_type: "display_data", data: { "application/vnd.plotly.v1+json": {}, "image/png": png, "text/plain": "<Plotly figure: model accuracy>" } }],
      },
      { cell_type: "code", execution_count: 4, source: "console.log(loss);\nconsole.log(accuracy);", metadata: {}, outputs: [{ output_type: "stream", name: "stdout", text: ["0.0349\n", "0.9897\n"] }] },
      { cell_type: "markdown", source: "**Answer:** good enough for notes, not for cheques.", metadata: { nbgrader: { solution: true, grade: true, grade_id: "q13-answer", points: 5 } } },
      { cell_type: "code", execution_count: 5, source: "console.log(loss2);\nconsole.log(accuracy2);", metadata: {}, outputs: [{ output_type: "stream", name: "stdout", text: "0.0311\n0.9898\n" }] },
      {
        // The figures come from what the comparison table recorded, whatever the cell's variables are called.
        cell_type: "code", execution_count: 6, source: "const resultsRenamed = { … };\nawait show(comparisonTable(resultsRenamed));", metadata: {},
        outputs: [{
          output_type: "display_data", data: { "text/html": "<table>…</table>", "text/plain": "…" },
          metadata: { "deep_convolution/table": { index: ["model_1", "model_2"], columns: ["loss", "test_loss", "test_accuracy"], values: [[0.01, 0.0349, 0.9897], [0.04, 0.0311, null]] } },
        }],
      },
    ],
  };
}

describe("checkSubmission", () => {
  it("passes a notebook run top to bottom, and reads back its parameters and test figures", () => {
    const report = checkSubmission(executed());
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ codeCells: 6, figures: 1, answers: 1 });
    expect(report.parameters).toMatchObject({ epochs: 1, sampleLimit: 2000, batchSize: 128 });
    // model_2's accuracy is missing from the table (null), so only model_1 is read back
    expect(report.results).toEqual({ model_1: { loss: 0.0349, accuracy: 0.9897 } });
  });

  it("reads back every model's test figures from all the comparison tables, a later table's over an earlier one's", () => {
    const nb = executed();
    nb.cells.push({
      cell_type: "code", execution_count: 7, source: "await show(comparisonTable({ model_2: …, model_3: … }));", metadata: {},
      outputs: [{
        output_type: "display_data", data: { "text/html": "<table>…</table>", "text/plain": "…" },
        metadata: { "deep_convolution/table": { index: ["model_2", "model_3"], columns: ["test_loss", "test_accuracy"], values: [[0.0311, 0.9898], [0.0402, 0.9871]] } },
      }],
    } as never);
    expect(checkSubmission(nb).results).toEqual({
      model_1: { loss: 0.0349, accuracy: 0.9897 },
      model_2: { loss: 0.0311, accuracy: 0.9898 },
      model_3: { loss: 0.0402, accuracy: 0.9871 },
    });
  });

  it("names cells run out of order, both of them", () => {
    const nb = executed();
    nb.cells[3]!.execution_count = 4;
    nb.cells[4]!.execution_count = 3;
    const { problems } = checkSubmission(nb);
    expect(problems[0]).toBe("cell 4 (// Accuracy) ran as [4] after cell 3 (// Parameters injected by npm start) ran as [2]: the cells ran out of order. "
      + "In JupyterLab: Kernel → Restart Kernel and Run All Cells, then save.");
    expect(problems[1]).toMatch(/^cell 5 \(console\.log\(loss\);\) ran as \[3\] after cell 4 \(\/\/ Accuracy\) ran as \[4\]/);
  });

  it("names a run that did not start from a fresh kernel, and cells not run", () => {
    const nb = executed();
    nb.cells.forEach((c) => { if (c.execution_count) c.execution_count += 10; });
    nb.cells[6]!.execution_count = null as never;
    const { problems } = checkSubmission(nb);
    expect(problems).toContain("1 code cell was not run, first cell 7 (console.log(loss2);). In JupyterLab: Kernel → Restart Kernel and Run All Cells, then save.");
    expect(problems).toContain("cell 2 (let epochs = 6;) ran as [11], not [1]: the kernel was not restarted before the run. In JupyterLab: Kernel → Restart Kernel and Run All Cells, then save.");
  });

  it("names error outputs, charts without their image and answers not written", () => {
    const nb = executed();
    (nb.cells[4]!.outputs as unknown[]).push({ output_type: "error", ename: "ReferenceError", evalue: "loss is not defined", traceback: [] });
    delete ((nb.cells[3]!.outputs![0] as { data: Record<string, unknown> }).data)["image/png"];
    nb.cells[5]!.source = "YOUR ANSWER HERE";
    const { problems } = checkSubmission(nb);
    expect(problems).toEqual([
      "cell 5 (console.log(loss);) shows an error: ReferenceError: loss is not defined. Fix it (the message says how), then run all cells again.",
      "cell 4 (// Accuracy): the figure <Plotly figure: model accuracy> has no stored image, so the PDF and HTML would miss it. Run the cell again and save.",
      'The answer to Question 13 (cell 6) is not written yet: replace "YOUR ANSWER HERE" with your group\'s answer.',
    ]);
  });

  it("says in one sentence when a file is not a notebook", () => {
    expect(() => parseNotebook("my answers", "notes.ipynb")).toThrow(NotANotebookError);
    expect(() => parseNotebook("my answers", "notes.ipynb")).toThrow(/^notes\.ipynb is not a Jupyter notebook: it is not JSON \(.*\)\. Give the \.ipynb file that JupyterLab saves\.$/);
    expect(() => checkSubmission({ cells: "none" }, "x.ipynb")).toThrow("x.ipynb is not a Jupyter notebook (it has no cells or nbformat). Give the .ipynb file that JupyterLab saves.");
  });
});
