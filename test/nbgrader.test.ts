/**
 * The teacher's side on nbgrader itself: npm run assignment, npm run autograde,
 * and a small TypeScript assignment that must score 1/2 unanswered and 2/2
 * answered (before tslab's patch, an unanswered one scored 2/2). nbgrader is on
 * no package index these machines reach: where .venv has no nbgrader, these
 * tests are skipped and say so.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { joined, makeNotebook, root, run, scratchDir, tempDir, venvPython, type Notebook, type NotebookCell } from "./helpers";

const hasNbgrader = spawnSync(venvPython, ["-c", "import nbgrader"], { stdio: "ignore" }).status === 0;
if (!hasNbgrader) console.warn("nbgrader is not installed in .venv: the teacher tests (test/nbgrader.test.ts) are skipped. npm run setup -- --teacher installs it.");

const nbgraderMeta = (meta: Record<string, unknown>) => ({ nbgrader: { schema_version: 3, locked: false, ...meta } });

/** One solution cell (square) and two test cells of 1 point each, in TypeScript. */
function smallAssignment(): Notebook {
  const nb = makeNotebook([
    "function square(x: number): number {\n  // ### BEGIN SOLUTION\n  return x * x;\n  // ### END SOLUTION\n}",
    'if (typeof square !== "function") throw new Error("square is missing");',
    'if (square(3) !== 9) throw new Error(`square(3) is ${square(3)}, not 9`);',
  ]);
  const [solution, exists, correct] = nb.cells as Array<NotebookCell & { metadata: Record<string, unknown> }>;
  solution!.metadata = nbgraderMeta({ grade: false, solution: true, grade_id: "square" });
  exists!.metadata = nbgraderMeta({ grade: true, solution: false, locked: true, points: 1, grade_id: "test-exists" });
  correct!.metadata = nbgraderMeta({ grade: true, solution: false, locked: true, points: 1, grade_id: "test-square" });
  return nb;
}

const course = (args: string[]) => run(venvPython, [path.join(root, "scripts", "nbgrader_course.py"), ...args], { timeoutMs: 900_000 });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;

describe.skipIf(!hasNbgrader)("nbgrader with the tslab kernel", () => {
  it("scores a small TypeScript assignment 1/2 unanswered and 2/2 answered", async () => {
    const dir = scratchDir("nbgrader-small");
    const source = path.join(dir, "source.ipynb");
    fs.writeFileSync(source, JSON.stringify(smallAssignment()));
    const released = path.join(dir, "released.ipynb");
    const made = await course(["assignment", source, released]);
    expect(made.status, made.stderr).toBe(0);
    expect(lastJson(made.stdout).maxScore).toBe(2);
    const student = JSON.parse(fs.readFileSync(released, "utf8")) as Notebook;
    expect(joined(student.cells[0]!.source)).toMatch(/\/\/ YOUR CODE HERE\n\s*throw new Error\("not implemented"\);/);
    expect(joined(student.cells[0]!.source)).not.toContain("return x * x");

    const feedback = tempDir("feedback");
    const unanswered = await course(["autograde", source, released, "unanswered", feedback]);
    expect(unanswered.status, unanswered.stderr).toBe(0);
    expect(lastJson(unanswered.stdout)).toMatchObject({ score: 1, maxScore: 2, failedTests: ["test-square"] });

    const answered = path.join(dir, "answered.ipynb");
    student.cells[0]!.source = "function square(x: number): number {\n  return x ** 2;\n}";
    fs.writeFileSync(answered, JSON.stringify(student));
    const full = await course(["autograde", source, answered, "answered", feedback]);
    expect(full.status, full.stderr).toBe(0);
    expect(lastJson(full.stdout)).toMatchObject({ score: 2, maxScore: 2, failedTests: [] });
    expect(fs.readFileSync(path.join(feedback, "answered", "deep-convolution.html"), "utf8")).toContain("test-square");
  });

  const assignmentFile = path.join(tempDir("assignment"), "deep-convolution.ipynb");

  it("npm run assignment writes the student version: 18 points of questions and 2 of tests, no answers, no outputs", async () => {
    const made = await run(process.execPath, [path.join(root, "scripts", "nbgrader.mjs"), "assignment", "-o", assignmentFile], { timeoutMs: 300_000 });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^Wrote .*deep-convolution\.ipynb: the student version \(answers and outputs cleared\), 20 points in nbgrader's gradebook\.\n$/);
    const nb = JSON.parse(fs.readFileSync(assignmentFile, "utf8")) as Notebook;
    const graded = nb.cells.map((c) => (c.metadata as { nbgrader?: { grade?: boolean; task?: boolean; solution?: boolean; points?: number } }).nbgrader);
    const points = (keep: (g: NonNullable<(typeof graded)[number]>) => boolean) => graded.reduce((sum, g) => sum + (g && keep(g) ? g.points ?? 0 : 0), 0);
    expect(points((g) => g.solution === true || g.task === true)).toBe(18); // the original's questions
    expect(points((g) => g.grade === true && g.solution === false)).toBe(2); // the autograded test cells
    const answers = nb.cells.filter((_, i) => graded[i]?.solution === true).map((c) => joined(c.source));
    expect(answers).toEqual(Array(5).fill("YOUR ANSWER HERE"));
    expect(nb.cells.flatMap((c) => c.outputs ?? [])).toEqual([]);
    expect(fs.readFileSync(assignmentFile, "utf8")).not.toContain("from the original notebook");
  }, 300_000);

  it("npm run autograde scores quick submissions in parallel, with feedback HTML for each", async () => {
    const student = JSON.parse(fs.readFileSync(assignmentFile, "utf8")) as Notebook;
    const parameters = student.cells.find((c) => joined(c.source).includes("let epochs = 6;"))!;
    parameters.source = joined(parameters.source).replace("let epochs = 6;", "let epochs = 1;").replace("= null; // e.g. 2000", "= 2000; // e.g. 2000");
    const dir = tempDir("submissions");
    const unanswered = path.join(dir, "bob.ipynb");
    fs.writeFileSync(unanswered, JSON.stringify(student));
    for (const cell of student.cells) {
      if ((cell.metadata as { nbgrader?: { solution?: boolean } }).nbgrader?.solution) cell.source = "Our group's answer.";
    }
    const answered = path.join(dir, "alice.ipynb");
    fs.writeFileSync(answered, JSON.stringify(student));
    const graded = await run(process.execPath, [path.join(root, "scripts", "nbgrader.mjs"), "autograde", answered, unanswered, "--jobs", "2"], { timeoutMs: 900_000 });
    expect(graded.status, graded.stderr).toBe(0);
    // the two test cells pass on a quick run; the answers wait for the teacher
    expect(graded.stdout).toMatch(/^alice: score 2 \/ 20 \(18 points to grade by hand; feedback output\/feedback\/alice\/deep-convolution\.html; \d+ s\)$/m);
    expect(graded.stdout).toMatch(/^bob: score 2 \/ 20 \(2 points to grade by hand; unanswered: q11-answer, q12-answer, q13-answer, q14-answer, q15-answer; feedback/m);
    const html = fs.readFileSync(path.join(root, "output", "feedback", "alice", "deep-convolution.html"), "utf8");
    expect(html).toContain("Question 12");
    expect(html).toContain("q12-test");
  }, 900_000);
});
