import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../helpers";

interface Grade { grade: boolean; solution: boolean; task?: boolean; locked: boolean; points?: number; grade_id: string }
const nb = JSON.parse(fs.readFileSync(path.join(root, "notebooks", "deep-convolution.ipynb"), "utf8")) as {
  cells: Array<{ cell_type: string; source: string[]; metadata: { nbgrader?: Grade } }>;
};
const graded = nb.cells.filter((c) => c.metadata.nbgrader !== undefined);
const kind = (g: Grade) => (g.task ? "task" : g.solution && g.grade ? "answer" : g.grade ? "test" : "question");

describe("the notebook's nbgrader metadata", () => {
  it("gives the original's 18 points (Question 10's plots a task, not a test cell) and 2 autograded test points", () => {
    const points = (k: string) => graded.filter((c) => kind(c.metadata.nbgrader!) === k).map((c) => [c.metadata.nbgrader!.grade_id, c.metadata.nbgrader!.points]);
    expect(points("task")).toEqual([["q10-task", 2]]);
    expect(graded.find((c) => c.metadata.nbgrader!.task)!.metadata.nbgrader!.grade).toBe(false); // nbgrader counts grade + task twice
    expect(points("answer")).toEqual([["q11-answer", 3], ["q12-answer", 2], ["q13-answer", 5], ["q14-answer", 3], ["q15-answer", 3]]);
    expect(points("test")).toEqual([["q12-test", 1], ["model2-test", 1]]);
    const ids = graded.map((c) => c.metadata.nbgrader!.grade_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("has locked test cells that check the printed test figures against a threshold fair to quick runs", () => {
    const tests = graded.filter((c) => kind(c.metadata.nbgrader!) === "test");
    for (const cell of tests) {
      expect(cell.cell_type).toBe("code");
      expect(cell.metadata.nbgrader!.locked).toBe(true);
    }
    // on the full data, 0.95 on MNIST and 0.8 on Fashion-MNIST; a quick run needs only the figures
    expect(tests[0]!.source.join("")).toContain('mnist: 0.95, "fashion-mnist": 0.8,\n};\nconst expectedAccuracy =\n  sampleLimit !== null ? 0 : fullRunAccuracy[dataset] ?? 0.8;');
    expect(tests.map((c) => c.source.join("").match(/(\w+) >= expectedAccuracy\)/)![1])).toEqual(["accuracy", "accuracy2"]);
    expect(tests.map((c) => c.source.join("").match(/Number\.isFinite\((\w+)\)/)![1])).toEqual(["loss", "loss2"]);
  });
});
