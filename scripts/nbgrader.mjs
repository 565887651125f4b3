#!/usr/bin/env node
// The teacher's side, on nbgrader itself (scripts/nbgrader_course.py runs its commands):
//   npm run assignment [-- -o FILE]           the student version: answers and outputs
//                                             cleared, checksums added (output/assignment/)
//   npm run autograde -- FILE.ipynb… [--jobs N] [--source NOTEBOOK]
//                                             autograde and feedback for each submission,
//                                             several at once; feedback HTML in output/feedback/
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectPython, root } from "./project.mjs";

const NOTEBOOK = path.join(root, "notebooks", "deep-convolution.ipynb");
const python = projectPython();
const shown = (file) => path.relative(process.cwd(), file);
const fail = (message) => {
  console.error(message);
  process.exit(1);
};

if (spawnSync(python, ["-c", "import nbgrader"], { stdio: "ignore" }).status !== 0) {
  fail("nbgrader is not installed in .venv: run `npm run setup -- --teacher`. Where pip cannot reach nbgrader, README's \"For teachers\" says how to install it from its source.");
}

/** Runs nbgrader_course.py; resolves with the JSON line it prints, or rejects with its error. */
function course(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(root, "scripts", "nbgrader_course.py"), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? "2" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line));
      else reject(new Error(stderr.trim() || stdout.trim() || `exited with ${code}`));
    });
  });
}

/** A submission's student id: its file name, or its folder's where the file keeps the assignment's name. */
function studentOf(file) {
  const base = path.basename(file, ".ipynb");
  const name = base === "deep-convolution" ? path.basename(path.dirname(path.resolve(file))) : base;
  return name.replace(/[^\w.-]+/g, "_");
}

const [command, ...args] = process.argv.slice(2);
const option = (flag) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined) fail(`${flag} needs a value.`);
  args.splice(i, 2);
  return value;
};

if (command === "assignment") {
  const out = path.resolve(option("-o") ?? path.join(root, "output", "assignment", "deep-convolution.ipynb"));
  const { maxScore } = await course(["assignment", NOTEBOOK, out]).catch((error) => fail(error.message));
  console.log(`Wrote ${shown(out)}: the student version (answers and outputs cleared), ${maxScore} points in nbgrader's gradebook.`);
} else if (command === "autograde") {
  const source = path.resolve(option("--source") ?? NOTEBOOK);
  const jobs = Number(option("--jobs") ?? os.availableParallelism());
  if (!(Number.isInteger(jobs) && jobs > 0)) fail("--jobs must be a whole number greater than 0.");
  if (args.length === 0) fail("Usage: npm run autograde -- FILE.ipynb… [--jobs N] [--source NOTEBOOK]");
  for (const file of args) if (!fs.existsSync(file)) fail(`${file} does not exist.`);
  const students = args.map(studentOf);
  const twice = students.find((s, i) => students.indexOf(s) !== i);
  if (twice) fail(`Two submissions would be graded as student "${twice}": name each file (or its folder) after its student.`);
  const feedbackDir = path.join(root, "output", "feedback");
  const queue = args.map((file, i) => ({ file, student: students[i] }));
  let failures = 0;
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const started = performance.now();
      try {
        const r = await course(["autograde", source, path.resolve(next.file), next.student, feedbackDir]);
        const seconds = Math.round((performance.now() - started) / 1000);
        const notes = [
          r.toGradeByHand > 0 ? `${r.toGradeByHand} points to grade by hand` : null,
          r.failedTests.length > 0 ? `failed tests: ${r.failedTests.join(", ")}` : null,
          r.unanswered.length > 0 ? `unanswered: ${r.unanswered.join(", ")}` : null,
          `feedback ${shown(r.feedback)}`,
          `${seconds} s`,
        ].filter((n) => n !== null);
        console.log(`${r.student}: score ${r.score} / ${r.maxScore} (${notes.join("; ")})`);
      } catch (error) {
        failures++;
        console.error(`${next.student}: not graded (${shown(next.file)}): ${error.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  if (failures > 0) process.exit(1);
} else {
  fail("Usage: node scripts/nbgrader.mjs assignment [-o FILE] | autograde FILE.ipynb… [--jobs N] [--source NOTEBOOK]");
}
