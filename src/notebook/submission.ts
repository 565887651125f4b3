/**
 * The check a student runs before handing in (`npm run check -- FILE.ipynb`):
 * reads a saved notebook, runs nothing, and lists what would cost points:
 * cells not run or run out of order, error outputs, charts and pictures
 * without their image, answers not written. Also reads back the parameters the run used and
 * each model's test figures, as the comparison tables' outputs recorded them
 * (its metadata, not the text of any cell), for the summary.
 */
import { UserError } from "../core/errors";
import { TABLE_METADATA } from "../core/metadata";
import type { tableData } from "../report/tables";
import { DEFAULT_PARAMETERS, parseParameterValue } from "./parameters";

export class NotANotebookError extends UserError {}

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: Output[];
  metadata?: {
    tags?: string[];
    nbgrader?: { solution?: boolean; grade?: boolean; grade_id?: string; points?: number };
  };
}

export interface SubmissionReport {
  /** Each problem in words, with how to fix it; empty when the notebook is ready to hand in. */
  problems: string[];
  codeCells: number;
  /** Charts and pictures (Plotly figures), each with its image. */
  figures: number;
  answers: number;
  /** The parameters the run used: the parameters cell, with npm start's injected values over it. */
  parameters: Record<string, unknown>;
  /** Test loss and accuracy per model, as the notebook's comparison table recorded them (empty without one). */
  results: Record<string, { loss: number; accuracy: number }>;
}

/** nbgrader's placeholder in an answer cell of the student version. */
const ANSWER_STUB = "YOUR ANSWER HERE";
const RUN_ALL = "In JupyterLab: Kernel → Restart Kernel and Run All Cells, then save.";

const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : (text ?? ""));

function cellsOf(notebook: unknown, name: string): Cell[] {
  const nb = notebook as { cells?: unknown; nbformat?: unknown } | null;
  if (typeof nb !== "object" || nb === null || !Array.isArray(nb.cells) || typeof nb.nbformat !== "number") {
    throw new NotANotebookError(
      `${name} is not a Jupyter notebook (it has no cells or nbformat). Give the .ipynb file that JupyterLab saves.`,
    );
  }
  return nb.cells as Cell[];
}

/** Parses a notebook file's text; a file that is not JSON gets one sentence. */
export function parseNotebook(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new NotANotebookError(
      `${name} is not a Jupyter notebook: it is not JSON (${(error as Error).message}). Give the .ipynb file that ` +
        `JupyterLab saves.`,
    );
  }
}

/** `let name = value;` and `const name = value;` lines of a cell, read as parameter values. */
function assignments(source: string): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const [, name, value] of source.matchAll(/^(?:let|const) (\w+)(?:: [^=]+)? = (.+?);/gm)) {
    try {
      found[name!] = JSON.parse(value!);
    } catch {
      found[name!] = parseParameterValue(value!);
    }
  }
  return found;
}

/**
 * Each model's test loss and accuracy from the last table shown with test_loss and test_accuracy columns
 * (comparisonTable).
 */
function recordedResults(cells: Cell[]): SubmissionReport["results"] {
  const tables = cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) => o.metadata?.[TABLE_METADATA] as ReturnType<typeof tableData> | undefined)
    .filter((t) => t !== undefined && t.columns.includes("test_loss") && t.columns.includes("test_accuracy"));
  // Every comparison in the notebook (models 1 and 2, then 2 and 3): a later one's figures for a model
  // replace earlier ones.
  const results: SubmissionReport["results"] = {};
  for (const table of tables) {
    const [loss, accuracy] = [table!.columns.indexOf("test_loss"), table!.columns.indexOf("test_accuracy")];
    table!.index.forEach((name, i) => {
      const row = table!.values[i]!;
      if (typeof row[loss] === "number" && typeof row[accuracy] === "number")
        results[String(name)] = { loss: row[loss] as number, accuracy: row[accuracy] as number };
    });
  }
  return results;
}

export function checkSubmission(notebook: unknown, name = "the notebook"): SubmissionReport {
  const cells = cellsOf(notebook, name);
  const problems: string[] = [];
  const label = (i: number) => {
    const first =
      joined(cells[i]!.source)
        .split("\n")
        .find((l) => l.trim() !== "") ?? "";
    return `cell ${i + 1} (${first.length > 50 ? `${first.slice(0, 50)}…` : first})`;
  };
  const code = cells
    .map((c, i) => [c, i] as const)
    .filter(([c]) => c.cell_type === "code" && joined(c.source).trim() !== "");

  const notRun = code.filter(([c]) => typeof c.execution_count !== "number");
  if (notRun.length > 0) {
    problems.push(
      `${notRun.length} code cell${notRun.length === 1 ? " was" : "s were"} not run, first ${label(notRun[0]![1])}. ` +
        `${RUN_ALL}`,
    );
  }
  let previous: { count: number; index: number } | null = null;
  for (const [c, i] of code) {
    if (typeof c.execution_count !== "number") continue;
    const expected: number = previous === null ? 1 : previous.count + 1;
    if (c.execution_count !== expected) {
      problems.push(
        previous === null
          ? `${label(i)} ran as [${c.execution_count}], not [1]: the kernel was not restarted before the run. ` +
              RUN_ALL
          : `${label(i)} ran as [${c.execution_count}] after ${label(previous.index)} ran as [${previous.count}]: ` +
              `the cells ran out of order. ${RUN_ALL}`,
      );
    }
    previous = { count: c.execution_count, index: i };
  }
  for (const [c, i] of code) {
    for (const o of c.outputs ?? []) {
      if (o.output_type === "error")
        problems.push(
          `${label(i)} shows an error: ${o.ename}: ${o.evalue}. Fix it (the message says how), then run all cells ` +
            `again.`,
        );
    }
  }
  let figures = 0;
  for (const [c, i] of code) {
    for (const o of c.outputs ?? []) {
      if (!o.data?.["application/vnd.plotly.v1+json"]) continue;
      figures++;
      if (!o.data["image/png"]) {
        problems.push(
          `${label(i)}: the figure ${joined(o.data["text/plain"] as string)} has no stored image, ` +
            `so the PDF and HTML would miss it. Run the cell again and save.`,
        );
      }
    }
  }
  const answerCells = cells
    .map((c, i) => [c, i] as const)
    .filter(([c]) => c.metadata?.nbgrader?.solution === true && c.cell_type === "markdown");
  for (const [c, i] of answerCells) {
    const text = joined(c.source).trim();
    if (text === "" || text === ANSWER_STUB) {
      const question = c.metadata!.nbgrader!.grade_id?.match(/^q(\d+)/)?.[1];
      problems.push(
        `The answer ${question ? `to Question ${question} ` : ""}(cell ${i + 1}) is not written yet: replace ` +
          `"${ANSWER_STUB}" with your group's answer.`,
      );
    }
  }

  const parameterCell = cells.find((c) => c.metadata?.tags?.includes("parameters"));
  const injected = cells.find((c) => c.metadata?.tags?.includes("injected-parameters"));
  const parameters = {
    ...DEFAULT_PARAMETERS,
    ...assignments(joined(parameterCell?.source)),
    ...assignments(joined(injected?.source)),
  };
  return {
    problems,
    codeCells: code.length,
    figures,
    answers: answerCells.length,
    parameters,
    results: recordedResults(cells),
  };
}
