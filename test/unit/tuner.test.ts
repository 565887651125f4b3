import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tf } from "../../src/core/backend";
import { UserError } from "../../src/core/errors";
import { KERNEL_CATALOGUE } from "../../src/engine/kernels";
import { fileStore, lowerQuartile, machineKey, MARGIN, parseKernelSettings, Tuner, type Candidate, type ChoiceStore, type KernelSettings } from "../../src/engine/tuner";

/** A store in memory, counting reads and writes. */
function memoryStore(): ChoiceStore & { entries: Map<string, unknown>; writes: number } {
  const entries = new Map<string, unknown>();
  const store = {
    entries,
    writes: 0,
    read: (machine: string, key: string) => entries.get(`${machine}|${key}`) as ReturnType<ChoiceStore["read"]>,
    write: (machine: string, key: string, value: unknown) => {
      store.writes++;
      entries.set(`${machine}|${key}`, value);
    },
  };
  return store;
}

const settings = (overrides: Partial<KernelSettings> = {}): KernelSettings => ({ retune: false, withoutOneDNN: false, withoutWinograd: false, forced: new Map(), ...overrides });

/**
 * Candidates whose trials advance a fake clock by a fixed cost, plus a slow
 * outlier now and then (noise only ever adds time), counting their trials.
 */
function fakeOps(costs: Record<string, number>, oneDNN: string[] = [], clock = { ms: 0 }) {
  const calls: Record<string, number> = Object.fromEntries(Object.keys(costs).map((n) => [n, 0]));
  const candidates: Candidate<string>[] = Object.keys(costs).map((name) => ({ name, oneDNN: oneDNN.includes(name), impl: name }));
  const trial = (name: string) => {
    calls[name]! += 1;
    clock.ms += costs[name]! * (calls[name]! % 5 === 0 ? 3 : 1);
  };
  return { candidates, trial, calls, clock, now: () => clock.ms };
}

describe("the kernel tuner", () => {
  it("measures each candidate on the first call, picks the fastest and caches it; later calls and processes measure nothing", () => {
    const store = memoryStore();
    const ops = fakeOps({ eigen: 10, onednn: 6, transposed: 8 });
    const tuner = new Tuner({ machine: "m", store, settings: settings(), now: ops.now });
    expect(tuner.choose("conv2dFilterGrad", "x [8,4,4,2]", ops.candidates, ops.trial)).toBe("onednn");
    const trials = { ...ops.calls };
    expect(Math.min(...Object.values(trials))).toBeGreaterThanOrEqual(7 + 2); // at least 7 timed rounds after 2 warm-up calls
    expect(trials.eigen).toBe(trials.onednn);
    expect(tuner.choose("conv2dFilterGrad", "x [8,4,4,2]", ops.candidates, ops.trial)).toBe("onednn");
    expect(ops.calls).toEqual(trials);
    const [choice] = tuner.choices();
    expect(choice).toEqual({ op: "conv2dFilterGrad", shape: "x [8,4,4,2]", kernel: "onednn", how: "measured", ms: { eigen: 10, onednn: 6, transposed: 8 } });
    expect(store.writes).toBe(1);

    const again = new Tuner({ machine: "m", store, settings: settings(), now: ops.now });
    expect(again.choose("conv2dFilterGrad", "x [8,4,4,2]", ops.candidates, ops.trial)).toBe("onednn");
    expect(ops.calls).toEqual(trials);
    expect(again.choices()[0]).toMatchObject({ kernel: "onednn", how: "cached", ms: { onednn: 6 } });
  });

  it("keeps the baseline (the first candidate) unless another beats it by more than the margin", () => {
    const close = fakeOps({ eigen: 10, onednn: 10 * (1 - MARGIN / 2) });
    expect(new Tuner({ machine: "m", store: memoryStore(), settings: settings(), now: close.now }).choose("conv2d", "s", close.candidates, close.trial)).toBe("eigen");
    const clear = fakeOps({ eigen: 10, onednn: 10 * (1 - 2 * MARGIN) });
    expect(new Tuner({ machine: "m", store: memoryStore(), settings: settings(), now: clear.now }).choose("conv2d", "s", clear.candidates, clear.trial)).toBe("onednn");
  });

  it("holds a candidate with a margin of its own to that margin, and picks the fastest of those that pass theirs", () => {
    const withMargin = (costs: Record<string, number>) => {
      const ops = fakeOps(costs);
      const candidates = ops.candidates.map((c) => (c.name === "winograd4" ? { ...c, margin: 0.15 } : c));
      return new Tuner({ machine: "m", store: memoryStore(), settings: settings(), now: ops.now }).choose("conv2d", "s", candidates, ops.trial);
    };
    expect(withMargin({ eigen: 10, winograd4: 9 })).toBe("eigen"); // 10 % faster: not enough
    expect(withMargin({ eigen: 10, winograd4: 8 })).toBe("winograd4"); // 20 %
    expect(withMargin({ eigen: 10, onednn: 9.4, winograd4: 9 })).toBe("onednn"); // the fastest passes not, the next does
  });

  it("measures again on another machine, another shape, another set of candidates, or with DEEPCONV_KERNELS=tune", () => {
    const store = memoryStore();
    const first = fakeOps({ eigen: 10, onednn: 5 });
    new Tuner({ machine: "m", store, settings: settings(), now: first.now }).choose("conv2d", "s", first.candidates, first.trial);
    const measured = (machine: string, shape: string, costs: Record<string, number>, s = settings()) => {
      const ops = fakeOps(costs);
      new Tuner({ machine, store, settings: s, now: ops.now }).choose("conv2d", shape, ops.candidates, ops.trial);
      return Object.values(ops.calls).some((n) => n > 0);
    };
    expect(measured("m", "s", { eigen: 10, onednn: 5 })).toBe(false);
    expect(measured("other machine", "s", { eigen: 10, onednn: 5 })).toBe(true);
    expect(measured("m", "other shape", { eigen: 10, onednn: 5 })).toBe(true);
    expect(measured("m", "s", { eigen: 10, onednn: 5, padded: 4 })).toBe(true);
    expect(measured("m", "s", { eigen: 10, onednn: 5 }, settings({ retune: true }))).toBe(true);
  });

  it("runs a forced kernel without measuring, and measures where the op has no such kernel", () => {
    const ops = fakeOps({ eigen: 10, onednn: 5, padded: 1 });
    const tuner = new Tuner({ machine: "m", store: memoryStore(), settings: settings({ forced: new Map([["*", "eigen"], ["conv2dInputGrad", "padded"]]) }), now: ops.now });
    expect(tuner.choose("conv2d", "s", ops.candidates.slice(0, 2), ops.trial)).toBe("eigen");
    expect(tuner.choose("conv2dInputGrad", "s", ops.candidates, ops.trial)).toBe("padded");
    expect(Object.values(ops.calls)).toEqual([0, 0, 0]);
    const other = fakeOps({ adjoint: 10, transposed: 5 }, [], ops.clock);
    expect(tuner.choose("matMul", "s", other.candidates, other.trial)).toBe("transposed");
    expect(other.calls.adjoint).toBeGreaterThan(0);
    expect(tuner.choices().map((c) => c.how)).toEqual(["forced", "forced", "measured"]);
  });

  it("never runs a oneDNN candidate without oneDNN, and measures nothing where one candidate is left", () => {
    const ops = fakeOps({ eigen: 10, onednn: 1 }, ["onednn"]);
    const tuner = new Tuner({ machine: "m", store: memoryStore(), settings: settings({ withoutOneDNN: true }), now: ops.now });
    expect(tuner.choose("conv2d", "s", ops.candidates, ops.trial)).toBe("eigen");
    expect(ops.calls).toEqual({ eigen: 0, onednn: 0 });
    expect(tuner.choices()[0]!.how).toBe("only");
    expect(() => tuner.choose("maxPool", "s", ops.candidates.slice(1), ops.trial)).toThrow(/maxPool: no candidate kernel runs here \(onednn\)/);
  });

  it("leaves out a candidate this build cannot run, naming why, and fails only if every one fails", () => {
    const ops = fakeOps({ eigen: 10, onednn: 5, padded: 7 });
    const trial = (name: string) => {
      if (name === "onednn") throw new Error("No registered '_MklNativeConv2DBackpropInput' OpKernel for 'CPU' devices\nmore");
      ops.trial(name);
    };
    const tuner = new Tuner({ machine: "m", store: memoryStore(), settings: settings(), now: ops.now });
    expect(tuner.choose("conv2dInputGrad", "s", ops.candidates, trial)).toBe("padded");
    expect(tuner.choices()[0]).toMatchObject({ ms: { eigen: 10, padded: 7 }, failed: { onednn: "No registered '_MklNativeConv2DBackpropInput' OpKernel for 'CPU' devices" } });
    const broken = (name: string) => {
      throw new Error(`${name} is broken`);
    };
    expect(() => tuner.choose("conv2d", "s", ops.candidates, broken)).toThrow("eigen is broken");
  });

  it("frees every tensor its trials make, also one a trial returns", () => {
    const x = tf.ones([16, 16]);
    const tensors = tf.memory().numTensors;
    const candidates: Candidate<(t: typeof x) => typeof x>[] = [
      { name: "eigen", oneDNN: false, impl: (t) => tf.matMul(t, t) },
      { name: "onednn", oneDNN: false, impl: (t) => tf.add(tf.mul(t, 2), t) },
    ];
    new Tuner({ machine: "m", store: memoryStore(), settings: settings() }).choose("op", "s", candidates, (f) => f(x));
    expect(tf.memory().numTensors).toBe(tensors);
    x.dispose();
  });

  it("takes the lower quartile of each candidate's times (noise only adds time)", () => {
    expect(lowerQuartile([9, 1, 5, 3, 7, 100, 2, 4])).toBe(2);
    expect(lowerQuartile([5])).toBe(5);
  });
});

describe("DEEPCONV_KERNELS", () => {
  it("reads tune, no-onednn, no-winograd, a kernel for every op, and op=kernel", () => {
    expect(parseKernelSettings(undefined, KERNEL_CATALOGUE)).toEqual(settings());
    const s = parseKernelSettings(" tune, no-onednn ,eigen, conv2dFilterGrad=transposed, no-winograd", KERNEL_CATALOGUE);
    expect(s).toEqual(settings({ retune: true, withoutOneDNN: true, withoutWinograd: true, forced: new Map([["*", "eigen"], ["conv2dFilterGrad", "transposed"]]) }));
  });

  it.each(["fast", "conv2d=transposed", "convolution=eigen"])("refuses %s, naming what it takes", (value) => {
    const read = () => parseKernelSettings(value, KERNEL_CATALOGUE);
    expect(read).toThrow(UserError);
    expect(read).toThrow(`DEEPCONV_KERNELS: "${value}" is not understood.`);
    expect(read).toThrow(/conv2dFilterGrad \(eigen, onednn, transposed, winograd2, winograd2-fused, winograd4, winograd4-fused\)/);
  });
});

describe("where choices are kept", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kernels-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    vi.restoreAllMocks();
  });
  const entry = { kernel: "onednn", ms: { eigen: 2, onednn: 1 }, measured: "2026-12-03T00:00:00.000Z" };

  it("is a JSON file per machine, kept by another process's writes, rewritten when unreadable", () => {
    const file = path.join(tempDir(), "deeper", "kernels.json");
    const a = fileStore(file);
    expect(a.read("m", "k")).toBeUndefined();
    a.write("m", "k", entry);
    const b = fileStore(file);
    b.write("m2", "k", { ...entry, kernel: "eigen" });
    a.write("m", "k2", entry);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ format: 1, machines: { m: { k: entry, k2: entry }, m2: { k: { ...entry, kernel: "eigen" } } } });
    fs.writeFileSync(file, "{ not json");
    expect(fileStore(file).read("m", "k")).toBeUndefined();
    fileStore(file).write("m", "k", entry);
    expect(fileStore(file).read("m", "k")).toEqual(entry);
  });

  it("warns once and carries on when the cache folder cannot be written", () => {
    const blocked = path.join(tempDir(), "file");
    fs.writeFileSync(blocked, "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const store = fileStore(path.join(blocked, "kernels.json")); // a file where the folder should be
    store.write("m", "k", entry);
    store.write("m", "k2", entry);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/Could not save the kernel choices to .*kernels\.json .*measured again next time/);
  });

  it("names the machine by CPU, cores, oneDNN's ISA limit and TensorFlow's version", () => {
    const key = machineKey("2.21.0", { ONEDNN_MAX_CPU_ISA: "AVX2" });
    expect(key).toContain(`${os.availableParallelism()} cores`);
    expect(key).toContain("oneDNN ISA AVX2");
    expect(key).toContain("TensorFlow 2.21.0");
    expect(machineKey("2.21.0", {})).toContain("oneDNN ISA any");
    expect(machineKey("2.21.0", {})).not.toBe(key);
  });
});
