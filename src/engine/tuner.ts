/**
 * Chooses, per machine, the fastest of several ways to compute an op, as
 * cuDNN's autotuner does. The first time an op meets a shape, each of its
 * candidates (TensorFlow's portable Eigen kernel, oneDNN's, a reformulation)
 * runs on the actual inputs, interleaved over several rounds; the fastest
 * wins if it beats the first candidate, the baseline, by more than the noise
 * margin. Choices are cached per machine (CPU, cores, oneDNN's ISA
 * limit, TensorFlow build) in the project's cache folder, so only the first
 * fit on a machine pays the few seconds. DEEPCONV_KERNELS forces choices.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tf } from "../core/backend";
import { cacheRoot } from "../core/cache";
import { UserError } from "../core/errors";
import { writeFileAtomic } from "../core/files";

/** One way to compute an op. */
export interface Candidate<I> {
  /** Its name in the choices and in DEEPCONV_KERNELS: "eigen", "onednn", "transposed", … */
  readonly name: string;
  /** Whether it needs oneDNN's kernels, which not every TensorFlow build has. */
  readonly oneDNN: boolean;
  readonly impl: I;
  /**
   * How much faster than the baseline it must be timed to be chosen (MARGIN unless given): more for a kernel that
   * timing it alone flatters, one whose large intermediates cost more inside a step than in a warm cache.
   */
  readonly margin?: number;
}

/** What was chosen for an op at a shape, and how. */
export interface KernelChoice {
  op: string;
  shape: string;
  kernel: string;
  /**
   * measured now; cached from an earlier measurement on this machine; forced by DEEPCONV_KERNELS; the only candidate.
   */
  how: "measured" | "cached" | "forced" | "only";
  /** Each candidate's milliseconds (lower quartile of its rounds), where measured (now or when cached). */
  ms?: Record<string, number>;
  /** Candidates that failed on this TensorFlow build, with the first line of their error. */
  failed?: Record<string, string>;
}

/** DEEPCONV_KERNELS, read: see parseKernelSettings. */
export interface KernelSettings {
  /** Measure again, ignoring the cache (and replacing its entries). */
  retune: boolean;
  /** Use no oneDNN kernel at all, as on a TensorFlow build without them. */
  withoutOneDNN: boolean;
  /** Offer no Winograd convolution (ops/winograd.ts): TensorFlow's and oneDNN's kernels only. */
  withoutWinograd: boolean;
  /** Forced kernel by op name; "*" for every op that has it. */
  forced: Map<string, string>;
}

/**
 * DEEPCONV_KERNELS: a comma-separated list of `tune` (measure again),
 * `no-onednn` (no oneDNN kernels), `no-winograd` (no Winograd convolutions), a kernel name (forced wherever an op has
 * it) or `op=kernel`. `catalogue` names each op's candidates.
 */
export function parseKernelSettings(value: string | undefined, catalogue: Record<string, string[]>): KernelSettings {
  const settings: KernelSettings = {
    retune: false,
    withoutOneDNN: false,
    withoutWinograd: false,
    forced: new Map(),
  };
  const kernels = new Set(Object.values(catalogue).flat());
  const usage = () =>
    "DEEPCONV_KERNELS is a comma-separated list of: tune, no-onednn, no-winograd, " +
    `a kernel (${[...kernels].join(", ")}), or ` +
    `op=kernel with op one of ` +
    `${Object.entries(catalogue)
      .map(([op, names]) => `${op} (${names.join(", ")})`)
      .join(", ")}; e.g. DEEPCONV_KERNELS=no-onednn or DEEPCONV_KERNELS=conv2dFilterGrad=onednn.`;
  for (const item of (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [op, kernel] = item.includes("=") ? item.split("=", 2).map((s) => s.trim()) : ["*", item];
    if (item === "tune") settings.retune = true;
    else if (item === "no-onednn") settings.withoutOneDNN = true;
    else if (item === "no-winograd") settings.withoutWinograd = true;
    else if (op === "*" && kernels.has(kernel!)) settings.forced.set("*", kernel!);
    else if (op !== "*" && catalogue[op!]?.includes(kernel!)) settings.forced.set(op!, kernel!);
    else throw new UserError(`DEEPCONV_KERNELS: "${item}" is not understood. ${usage()}`);
  }
  return settings;
}

/**
 * What makes a measurement valid elsewhere: the CPU (model and the vector
 * instructions oneDNN generates code for), the cores TensorFlow's threads
 * share, oneDNN's ISA limit, and the TensorFlow library.
 */
export function machineKey(tensorflowVersion: string, env: NodeJS.ProcessEnv = process.env): string {
  const cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  const field = (name: string) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim();
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  const isa = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"].filter((f) => flags.has(f));
  const cpu = [
    field("model name") ?? os.cpus()[0]?.model ?? "unknown CPU",
    field("cpu family") && `family ${field("cpu family")} model ${field("model")}`,
  ]
    .filter(Boolean)
    .join(", ");
  return [
    `${cpu} (${isa.join(" ") || process.arch})`,
    `${os.availableParallelism()} cores`,
    `oneDNN ISA ${env.ONEDNN_MAX_CPU_ISA ?? "any"}`,
    `TensorFlow ${tensorflowVersion}`,
  ].join("; ");
}

interface Stored {
  kernel: string;
  ms: Record<string, number>;
  failed?: Record<string, string>;
  measured: string;
}

/** Where choices outlive the process. */
export interface ChoiceStore {
  read(machine: string, key: string): Stored | undefined;
  write(machine: string, key: string, value: Stored): void;
}

type CacheFile = { format: 1; machines: Record<string, Record<string, Stored>> };

/** Where the choices are kept: kernels.json in the project's cache folder. */
export const kernelCacheFile = () => path.join(cacheRoot(), "kernels.json");

/** The cache file, re-read before each write so processes side by side keep each other's choices. */
export function fileStore(file = kernelCacheFile()): ChoiceStore {
  const load = (): CacheFile => {
    try {
      const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as CacheFile;
      if (parsed.format === 1 && typeof parsed.machines === "object" && parsed.machines !== null) return parsed;
    } catch {
      // missing or unreadable: measured again, and rewritten
    }
    return { format: 1, machines: {} };
  };
  let cache: CacheFile | null = null;
  let warned = false;
  return {
    read(machine, key) {
      cache ??= load();
      return cache.machines[machine]?.[key];
    },
    write(machine, key, value) {
      cache = load();
      (cache.machines[machine] ??= {})[key] = value;
      try {
        writeFileAtomic(file, `${JSON.stringify(cache, null, 1)}\n`);
      } catch (error) {
        if (!warned)
          console.warn(
            `Could not save the kernel choices to ${file} (${(error as Error).message}); they will be measured again ` +
              `next time.`,
          );
        warned = true;
      }
    },
  };
}

/**
 * The lower quartile of a candidate's times: what else runs on the machine
 * (a neighbour on a shared core, the JavaScript compiler) only ever adds
 * time, so the faster samples say more about the kernel than the slow ones.
 */
export function lowerQuartile(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 4)]!;
}

export interface TunerOptions {
  machine: string;
  store: ChoiceStore;
  settings: KernelSettings;
  /** Milliseconds; performance.now by default, a fake clock in tests. */
  now?: () => number;
}

/**
 * A candidate must beat the baseline by this fraction to replace it: times on a noisy machine move by a few percent.
 */
export const MARGIN = 0.05;
/** Measuring one op aims at about this many milliseconds, within MIN_ROUNDS to MAX_ROUNDS rounds. */
const BUDGET_MS = 1500;
const MIN_ROUNDS = 7;
const MAX_ROUNDS = 20;
/**
 * Calls per candidate before timing: the first builds oneDNN's kernel, the next finds the allocator's memory in place.
 */
const WARM_UP_CALLS = 2;

export class Tuner {
  private readonly chosen = new Map<string, { choice: KernelChoice; impl: unknown }>();
  private readonly now: () => number;

  constructor(private readonly options: TunerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The candidate to run `op` with at `shape`. The first call for a shape may
   * measure: `trial` then runs one candidate fully on the call's inputs (the
   * tuner frees what it makes). The baseline is `candidates[0]`.
   */
  choose<I>(op: string, shape: string, candidates: Candidate<I>[], trial: (impl: I) => void): I {
    const key = `${op} ${shape}`;
    const known = this.chosen.get(key);
    if (known !== undefined) return known.impl as I;
    const { settings, store, machine } = this.options;
    const usable = candidates.filter((c) => !(settings.withoutOneDNN && c.oneDNN));
    if (usable.length === 0)
      throw new Error(`${op}: no candidate kernel runs here (${candidates.map((c) => c.name).join(", ")}).`);
    const forced = usable.find((c) => c.name === (settings.forced.get(op) ?? settings.forced.get("*")));
    const storeKey = `${key} among ${usable.map((c) => c.name).join(",")}`;
    const cached = settings.retune ? undefined : store.read(machine, storeKey);
    const fromCache = usable.find((c) => c.name === cached?.kernel);
    let pick: Candidate<I>;
    let choice: KernelChoice;
    if (forced) {
      pick = forced;
      choice = { op, shape, kernel: pick.name, how: "forced" };
    } else if (usable.length === 1) {
      pick = usable[0]!;
      choice = { op, shape, kernel: pick.name, how: "only" };
    } else if (fromCache) {
      pick = fromCache;
      choice = {
        op,
        shape,
        kernel: pick.name,
        how: "cached",
        ms: cached!.ms,
        ...(cached!.failed ? { failed: cached!.failed } : {}),
      };
    } else {
      const { ms, failed } = this.measure(usable, trial);
      pick = pickFastest(
        usable.filter((c) => ms[c.name] !== undefined),
        ms,
      );
      choice = { op, shape, kernel: pick.name, how: "measured", ms, ...(failed ? { failed } : {}) };
      store.write(machine, storeKey, {
        kernel: pick.name,
        ms,
        ...(failed ? { failed } : {}),
        measured: new Date().toISOString(),
      });
    }
    this.chosen.set(key, { choice, impl: pick.impl });
    return pick.impl;
  }

  /** Every choice made in this process, in the order the ops first ran. */
  choices(): KernelChoice[] {
    return [...this.chosen.values()].map(({ choice }) => choice);
  }

  /**
   * Each candidate's time in milliseconds (lower quartile) over interleaved
   * rounds, after warm-up calls. A candidate that throws (an op this build
   * lacks in some form) is left out and named; if all do, the baseline's
   * error is the op's.
   */
  private measure<I>(
    all: Candidate<I>[],
    trial: (impl: I) => void,
  ): { ms: Record<string, number>; failed?: Record<string, string> } {
    const time = (c: Candidate<I>) => {
      const started = this.now();
      // a block, not an expression: tidy keeps whatever its function returns
      tf.tidy(() => {
        trial(c.impl);
      });
      return this.now() - started;
    };
    const errors = new Map<Candidate<I>, unknown>();
    for (const c of all) {
      try {
        time(c);
      } catch (error) {
        errors.set(c, error);
      }
    }
    if (errors.size === all.length) throw errors.get(all[0]!);
    const candidates = all.filter((c) => !errors.has(c));
    const failed =
      errors.size === 0
        ? undefined
        : Object.fromEntries(
            [...errors].map(([c, error]) => [c.name, String((error as Error)?.message ?? error).split("\n")[0]!]),
          );
    let perRound = 0;
    for (let call = 1; call < WARM_UP_CALLS; call++) perRound = candidates.reduce((sum, c) => sum + time(c), 0);
    const rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.floor(BUDGET_MS / Math.max(perRound, 1e-3))));
    const samples = candidates.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      // each round starts with another candidate, so none always runs first
      for (let i = 0; i < candidates.length; i++) {
        const k = (i + r) % candidates.length;
        samples[k]!.push(time(candidates[k]!));
      }
    }
    const ms = Object.fromEntries(
      candidates.map((c, k) => [c.name, Math.round(lowerQuartile(samples[k]!) * 1000) / 1000]),
    );
    return { ms, ...(failed ? { failed } : {}) };
  }
}

/** The fastest of the candidates that beat the baseline (the first given) by their margin; else the baseline. */
export function pickFastest<I>(candidates: Candidate<I>[], ms: Record<string, number>): Candidate<I> {
  const baseline = candidates[0]!;
  const beats = (c: Candidate<I>) => ms[c.name]! < ms[baseline.name]! * (1 - (c.margin ?? MARGIN));
  return candidates.filter(beats).reduce((best, c) => (ms[c.name]! < ms[best.name]! ? c : best), baseline);
}
