/** Paths and runners shared by the tests. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { venvPython as projectVenvPython } from "../scripts/project.mjs";
export { cellWith, notebookCells } from "../scripts/project.mjs";
import { encodeIdx } from "../src/data/idx";

export const root = path.resolve(__dirname, "..");
export const venvPython = projectVenvPython();

/** A fresh folder for one test's files, inside the project so notebooks there can import "deep-convolution". */
export function scratchDir(prefix: string): string {
  const base = path.join(root, "test", ".tmp");
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking the event loop (a long spawnSync
 * starves Vitest's worker of its heartbeat, and Vitest then fails the run).
 */
export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : (text ?? ""));

/** A TypeScript notebook (tslab kernel) with one code cell per source. */
export function makeNotebook(sources: string[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: sources.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, source, metadata: {}, outputs: [], execution_count: null }) as NotebookCell),
  };
}

/** Runs scripts/run_notebook.py (nbclient + tslab) on a notebook file; returns the executed notebook and the run's output. */
export async function executeNotebook(file: string, parameters: Record<string, unknown> = {}, timeoutMs = 300_000) {
  const output = file.replace(/\.ipynb$/, ".out.ipynb");
  const result = await run(venvPython, [path.join(root, "scripts", "run_notebook.py"), file, output, "--quiet", "--parameters", JSON.stringify(parameters)], { timeoutMs });
  const executed = fs.existsSync(output) ? (JSON.parse(fs.readFileSync(output, "utf8")) as Notebook) : null;
  return { status: result.status, stderr: result.stderr, executed };
}

/** All outputs of all cells, with the index of the cell each came from. */
export function outputsOf(nb: Notebook): Array<NotebookOutput & { cell: number }> {
  return nb.cells.flatMap((c, cell) => (c.outputs ?? []).map((o) => ({ ...o, cell })));
}

export interface CellResult {
  status: "ok" | "error";
  outputs: string[];
  interrupted: boolean;
}

/** Runs cells in one fresh tslab kernel (scripts/kernel_driver.py), optionally interrupting cell `interrupt.cell`. */
export async function runInKernel(cells: string[], interrupt?: { cell: number; when: string }): Promise<CellResult[]> {
  const result = await run(venvPython, [path.join(root, "scripts", "kernel_driver.py")], {
    input: JSON.stringify({ cells, cwd: path.join(root, "notebooks"), interrupt }),
  });
  if (result.status !== 0) throw new Error(`kernel_driver.py failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as CellResult[];
}


export interface RunningLab {
  process: ChildProcess;
  port: number;
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = (probe.address() as net.AddressInfo);
      probe.close(() => resolve(port));
    });
  });
}

/** `npm run lab [-- folder]` on a free port; resolves once it prints its URL with the token. */
export async function startLab(folder?: string, timeoutMs = 90_000): Promise<RunningLab> {
  const port = await freePort();
  const lab = spawn(process.execPath, [path.join(root, "scripts", "lab.mjs"), ...(folder ? [folder] : [])], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`JupyterLab printed no URL within ${timeoutMs / 1000} s:\n${log}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk;
      const match = log.match(/http:\/\/127\.0\.0\.1:\d+\/lab\?token=\w+/);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    };
    lab.stdout.on("data", onData);
    lab.stderr.on("data", onData);
  });
  return {
    process: lab,
    port,
    url,
    token: new URL(url).searchParams.get("token")!,
    stop: async () => {
      if (lab.exitCode !== null) return;
      lab.kill("SIGTERM");
      await new Promise((resolve) => lab.on("exit", resolve));
    },
  };
}

/** Where Debian's dataset-fashion-mnist installs its files (src/data.ts looks there too). */
export const DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

/**
 * Fashion-MNIST for a test: Debian's real files where installed (loaded with
 * their md5 checked), otherwise four small IDX files in the same format written
 * here, with Fashion-MNIST's first labels (9, 0, 0), loaded through the same
 * loader as the user's own files are: dataDir with verifyChecksums false.
 */
export function fashionMnist(): { real: boolean; dataDir: string | null; verifyChecksums: boolean } {
  if (fs.existsSync(DEBIAN_FASHION_MNIST)) return { real: true, dataDir: null, verifyChecksums: true };
  const dir = scratchDir("fashion-idx");
  const write = (name: string, shape: number[], value: (i: number) => number) =>
    fs.writeFileSync(path.join(dir, name), encodeIdx(shape, Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => value(i))));
  const label = (i: number) => [9, 0, 0][i] ?? (i * 7) % 10;
  for (const [prefix, count] of [["train", 1200], ["t10k", 300]] as const) {
    write(`${prefix}-images-idx3-ubyte`, [count, 28, 28], (i) => (i * 131 + (i >> 9) * 17) % 256);
    write(`${prefix}-labels-idx1-ubyte`, [count], label);
  }
  return { real: false, dataDir: dir, verifyChecksums: false };
}

/** A Plotly typed array's values, row by row (its last axis kept as a list when it has three). */
export function typedValues(z: { dtype: "u1" | "f4"; bdata: string; shape: string }): number[][] {
  const bytes = Buffer.from(z.bdata, "base64");
  const flat = z.dtype === "u1" ? Array.from(bytes) : Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  const [rows, cols] = z.shape.split(",").map(Number) as [number, number];
  const per = flat.length / (rows * cols);
  return Array.from({ length: rows }, (_, r) => flat.slice(r * cols * per, (r + 1) * cols * per));
}
