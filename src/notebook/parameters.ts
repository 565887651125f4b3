/**
 * The notebook's parameters, checked before any data is loaded or any
 * training starts. Used by the notebook's parameters cell and by `npm start -p`.
 */
import fs from "node:fs";
import type { DatasetName } from "../data/catalogue";
import { UserError } from "../core/errors";
import { DROPOUT_RATE_RULE, isDropoutRate } from "../model/rules";

export interface Parameters {
  epochs: number;
  batchSize: number;
  learningRate: number;
  validationSplit: number;
  dropoutConv: number;
  dropoutDense: number;
  /** Use only the first N training and test examples; null for all. */
  sampleLimit: number | null;
  seed: number;
  /** Folder with the four MNIST IDX files; null for the copy bundled with the project. */
  dataDir: string | null;
  /** Where metrics.json, the saved models and the TensorBoard logs go, relative to the notebook. */
  outputDir: string;
  /** "mnist" or "fashion-mnist". */
  dataset: DatasetName;
  /** Check each IDX file's md5 against the original release; false for your own files in dataDir. */
  verifyChecksums: boolean;
}

export const DEFAULT_PARAMETERS: Readonly<Parameters> = {
  epochs: 6,
  batchSize: 128,
  learningRate: 1.0,
  validationSplit: 0.2,
  dropoutConv: 0.25,
  dropoutDense: 0.5,
  sampleLimit: null,
  seed: 42,
  dataDir: null,
  outputDir: "../output",
  dataset: "mnist",
  verifyChecksums: true,
};

export class ParameterError extends UserError {}

type Check = (value: unknown) => string | null;

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const positiveInteger: Check = (v) =>
  Number.isInteger(v) && (v as number) > 0 ? null : "a whole number greater than 0";
const dropoutRate: Check = (v) => (isDropoutRate(v) ? null : DROPOUT_RATE_RULE);
const CHECKS: Record<keyof Parameters, { rule: Check; example: string }> = {
  epochs: { rule: positiveInteger, example: "6" },
  batchSize: { rule: positiveInteger, example: "128" },
  learningRate: { rule: (v) => (isNumber(v) && v > 0 ? null : "a number greater than 0"), example: "1.0" },
  validationSplit: {
    rule: (v) => (isNumber(v) && v >= 0 && v < 1 ? null : "a number from 0 (no validation) up to, not including, 1"),
    example: "0.2",
  },
  dropoutConv: { rule: dropoutRate, example: "0.25" },
  dropoutDense: { rule: dropoutRate, example: "0.5" },
  sampleLimit: {
    rule: (v) => (v === null ? null : positiveInteger(v) && "null (all examples) or a whole number greater than 0"),
    example: "2000",
  },
  seed: { rule: (v) => (Number.isSafeInteger(v) ? null : "a whole number"), example: "42" },
  dataDir: {
    rule: (v) => {
      if (v === null) return null;
      if (typeof v !== "string" || v === "") return "null (the bundled MNIST) or the path of a folder";
      return fs.existsSync(v) && fs.statSync(v).isDirectory()
        ? null
        : "an existing folder (this path does not exist or is not a folder)";
    },
    example: '"/home/me/mnist"',
  },
  outputDir: { rule: (v) => (typeof v === "string" && v !== "" ? null : "a folder path"), example: '"../output"' },
  dataset: {
    rule: (v) => (v === "mnist" || v === "fashion-mnist" ? null : '"mnist" or "fashion-mnist"'),
    example: '"fashion-mnist"',
  },
  verifyChecksums: { rule: (v) => (typeof v === "boolean" ? null : "true or false"), example: "false" },
};

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  return String(value);
}

/** Closest known name, for "did you mean" hints. */
function closest(name: string): string | undefined {
  const known = Object.keys(CHECKS);
  const lower = name.toLowerCase();
  return known.find(
    (k) => k.toLowerCase() === lower || k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()),
  );
}

/**
 * Validates raw parameter values (from the notebook or the command line) and
 * returns them typed. Every problem is reported at once, each naming the
 * parameter, the value given and what is allowed.
 */
export function checkParameters(raw: Record<string, unknown>): Parameters {
  const problems: string[] = [];
  for (const name of Object.keys(raw)) {
    if (!(name in CHECKS)) {
      const hint = closest(name);
      problems.push(
        `${name}: no such parameter${hint ? ` (did you mean ${hint}?)` : ""}. Known: ` +
          `${Object.keys(CHECKS).join(", ")}.`,
      );
    }
  }
  const values = { ...DEFAULT_PARAMETERS, ...raw } as Record<string, unknown>;
  for (const [name, { rule, example }] of Object.entries(CHECKS)) {
    const problem = rule(values[name]);
    if (problem) problems.push(`${name} = ${describe(values[name])}: must be ${problem}, e.g. ${name} = ${example}.`);
  }
  if (problems.length > 0) {
    throw new ParameterError(`Invalid parameter${problems.length > 1 ? "s" : ""}:\n  ${problems.join("\n  ")}`);
  }
  return values as unknown as Parameters;
}

/**
 * Reads a command-line value the way papermill's `-p` does: numbers, true,
 * false and null as such, anything else as a string.
 */
export function parseParameterValue(text: string): unknown {
  if (text === "null" || text === "true" || text === "false") return JSON.parse(text);
  if (text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;
}
