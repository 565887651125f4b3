/**
 * A training step run as one TensorFlow function, as Keras runs its
 * train_step under tf.function. Run eagerly, each op is a call of its own
 * and runs alone; as a function, TensorFlow's graph executor runs the step's
 * independent ops side by side on the cores (a layer's weight and input
 * gradients, the optimizer's updates) and skips the per-op dispatch
 * (docs/PERFORMANCE.md has the measurements).
 *
 * The function is recorded, not written: a step runs eagerly while every op
 * it calls is recorded, and once two recorded steps in a row agree op for op,
 * later steps run the recording (graph.ts). What an op takes in is sorted as
 * it is recorded:
 *  - the arguments of `run` (the batch), and per-step values made through
 *    `stepInput` (dropout's seeds): made anew for every call;
 *  - tfjs variables' values (weights, batch normalization's moving
 *    statistics): read at every call; what the step assigns to them is
 *    assigned again after every call;
 *  - tensors made before the step (resource variables, kept constants):
 *    passed as they are while they live;
 *  - tensors JavaScript makes inside the step: constants of the function.
 *    Comparing two recordings finds any of these that changes from step to
 *    step: the step then stays eager, as it does when TensorFlow refuses
 *    the graph or the step reads a value back into JavaScript.
 */
import type { Tensor, Variable } from "@tensorflow/tfjs-node";
import type { NativeBackend, OpAttr } from "./binding";
import {
  canMakeFunctions,
  registerFunction,
  type Constant,
  type GraphNode,
  type GraphSpec,
  type Source,
} from "./graph";
import { allVariables, hookOps, tensorCount, tensorInfo } from "./internals";

/** What the function is passed for one of its arguments, at every call. */
type Argument =
  | { kind: "input"; index: number }
  | { kind: "made"; index: number }
  | { kind: "variable"; variable: Variable }
  | { kind: "captured"; dataId: object };

interface Recording {
  spec: GraphSpec;
  arguments: Argument[];
  /** The makers of the per-step values `stepInput` made, in the order made. */
  makers: Array<() => Tensor>;
  /** What JavaScript did besides ops (`onEveryCall`), to do again after every call. */
  effects: Array<() => void>;
  /** The variables the step assigns, each to a result of the function after the step's own results. */
  assigned: Variable[];
  /** Everything the recording depends on, for comparing two of them. */
  signature: string;
}

/** The most values a tensor JavaScript makes inside a step may have, to be a constant of the function. */
const MAX_CONSTANT = 65_536;

/** Records the ops of one eager run of a step. */
class Recorder {
  readonly nodes: GraphNode[] = [];
  readonly constants: Constant[] = [];
  readonly arguments: Argument[] = [];
  readonly argumentTypes: number[] = [];
  readonly makers: Array<() => Tensor> = [];
  readonly effects: Array<() => void> = [];
  readonly assignments: Array<{ variable: Variable; value: Source }> = [];
  /** Why the recording cannot be used, if it cannot. */
  spoiled: string | null = null;
  private readonly sources = new Map<object, Source>();
  private readonly lastUse = new Map<object, number>();
  private readonly variables = new Map<object, Variable>();
  private readonly firstTensorId: number;

  constructor(
    private readonly backend: NativeBackend,
    inputs: Tensor[],
  ) {
    for (const variable of allVariables()) this.variables.set(variable.dataId, variable);
    inputs.forEach((t, index) => this.addArgument(t, { kind: "input", index }));
    // Tensors made from here on by JavaScript are the step's own.
    this.firstTensorId = tensorCount();
  }

  private addArgument(t: Tensor, argument: Argument): Source {
    const info = tensorInfo(this.backend, t.dataId)!;
    const source: Source = { kind: "argument", index: this.arguments.length };
    this.arguments.push(argument);
    this.argumentTypes.push(info.dtype);
    this.sources.set(t.dataId, source);
    return source;
  }

  /** A per-step value: its maker runs again for every call of the function. */
  input(make: () => Tensor): Tensor {
    const t = make();
    this.addArgument(t, { kind: "made", index: this.makers.length });
    this.makers.push(make);
    return t;
  }

  source(t: Tensor): Source {
    const known = this.sources.get(t.dataId);
    if (known !== undefined) return known;
    const variable = this.variables.get(t.dataId);
    if (variable !== undefined) return this.addArgument(t, { kind: "variable", variable });
    if (t.id < this.firstTensorId) return this.addArgument(t, { kind: "captured", dataId: t.dataId });
    const info = tensorInfo(this.backend, t.dataId)!;
    // a constant's values are written into the graph and compared between recordings: small ones only
    if (t.size > MAX_CONSTANT) this.spoiled ??= `the step makes a tensor of ${t.size} values in JavaScript`;
    const values = t.size > MAX_CONSTANT ? [] : (info.values ?? this.backend.binding.tensorDataSync(info.id));
    const source: Source = { kind: "constant", index: this.constants.length };
    this.constants.push({ dtype: info.dtype, shape: [...t.shape], values: Array.from(values as ArrayLike<number>) });
    this.sources.set(t.dataId, source);
    return source;
  }

  op(name: string, attrs: OpAttr[], inputs: Tensor[], outputs: Tensor[]): void {
    const index = this.nodes.length;
    const after = new Set<number>();
    for (const t of inputs) {
      // Ops on the same resource variable run in the order they were called.
      if (tensorInfo(this.backend, t.dataId)?.dtype !== this.backend.binding.TF_RESOURCE) continue;
      const previous = this.lastUse.get(t.dataId);
      if (previous !== undefined) after.add(previous);
      this.lastUse.set(t.dataId, index);
    }
    const outputTypes = outputs.map((t) => tensorInfo(this.backend, t.dataId)!.dtype);
    this.nodes.push({ op: name, attrs, inputs: inputs.map((t) => this.source(t)), outputTypes, after: [...after] });
    outputs.forEach((t, output) => this.sources.set(t.dataId, { kind: "op", node: index, output }));
  }

  /** Whether the tensor is an output of a recorded op. */
  computed(dataId: object): boolean {
    return this.sources.get(dataId)?.kind === "op";
  }

  assign(variable: Variable, value: Tensor): void {
    this.assignments.push({ variable, value: this.source(value) });
  }

  /** The recording, with `results` the step's results; null (and `spoiled` saying why) if it cannot be a function. */
  finish(results: Tensor[], idOf: (o: object) => number): Recording | null {
    if (this.spoiled !== null) return null;
    const outputs = [...results.map((t) => this.source(t)), ...this.assignments.map((a) => a.value)];
    if (outputs.some((s) => s.kind !== "op")) {
      this.spoiled = "a result or an assigned value is not computed by the step";
      return null;
    }
    // Ops with no outputs are there for what they change (a variable's value): they run at every call.
    const effects = this.nodes.flatMap((n, i) => (n.outputTypes.length === 0 ? [i] : []));
    const spec: GraphSpec = {
      argumentTypes: this.argumentTypes,
      constants: this.constants,
      nodes: this.nodes,
      results: outputs as GraphSpec["results"],
      effects,
    };
    const signature = JSON.stringify({
      spec,
      arguments: this.arguments.map((a) =>
        a.kind === "variable" ? { v: idOf(a.variable) } : a.kind === "captured" ? { c: idOf(a.dataId) } : a,
      ),
      assigned: this.assignments.map((a) => idOf(a.variable)),
    });
    return {
      spec,
      arguments: this.arguments,
      makers: this.makers,
      effects: this.effects,
      assigned: this.assignments.map((a) => a.variable),
      signature,
    };
  }
}

let recorder: Recorder | null = null;

/**
 * A value a step makes afresh each time (a dropout mask's seed). `make` must
 * depend only on objects that outlive the step (a layer, not a loop's local
 * variable): when the step runs as a function, `make` is called in its place.
 */
export function stepInput(make: () => Tensor): Tensor {
  return recorder === null ? make() : recorder.input(make);
}

/**
 * Something the step does in JavaScript besides its ops (an optimizer
 * counting its iterations): `effect` is done after each call of the function,
 * where the step's JavaScript does not run. It is not done now.
 */
export function onEveryCall(effect: () => void): void {
  recorder?.effects.push(effect);
}

/** Runs `body` eagerly with its ops recorded; `spoiled` says why the recording cannot be used. */
function record<I extends Tensor[]>(
  backend: NativeBackend,
  inputs: I,
  body: (inputs: I) => Tensor[],
  idOf: (o: object) => number,
): { results: Tensor[]; recording: Recording | null; spoiled: string | null } {
  const r = new Recorder(backend, inputs);
  const unhook = hookOps(backend, {
    op: (name, attrs, ins, outs) => r.op(name, attrs, ins, outs),
    // A value the step computed, read into JavaScript, may steer what it does next (reading its inputs, as
    // tfjs-node's gather does to check the indices, is harmless).
    read: (dataId) => {
      if (r.computed(dataId)) r.spoiled ??= "the step reads a value it computed back into JavaScript";
    },
    assign: (variable, value) => r.assign(variable, value),
  });
  recorder = r;
  let results: Tensor[];
  try {
    results = body(inputs);
  } finally {
    recorder = null;
    unhook();
  }
  let recording: Recording | null = null;
  try {
    recording = r.finish(results, idOf);
  } catch (error) {
    r.spoiled = (error as Error).message;
  }
  return { results, recording, spoiled: r.spoiled };
}

/** A recording registered as a function, ready to run. */
interface Compiled {
  recording: Recording;
  name: string;
}

/**
 * What the step does for one shape of its inputs: recording (eager, with the
 * last usable recording to compare the next with), compiled (the function
 * runs), or refused (eager for good, and why). `attempts` counts recordings
 * since the last agreement.
 */
type ShapeState =
  | { kind: "recording"; previous: Recording | null; attempts: number }
  | { kind: "compiled"; function: Compiled; attempts: number }
  | { kind: "refused"; reason: string };

/** How many recordings in a row may disagree before the step stays eager for good. */
const ATTEMPTS = 4;
const RECORDING: ShapeState = { kind: "recording", previous: null, attempts: 0 };
const refused = (reason: string): ShapeState => ({ kind: "refused", reason });
const firstLine = (error: unknown) => (error as Error).message.split("\n")[0];

/**
 * A step (`body`, taking the inputs `run` is given and returning tensors),
 * run eagerly until it can run as a function. Call `run` inside tf.tidy.
 */
export class CompiledStep<I extends Tensor[] = Tensor[]> {
  private readonly shapes = new Map<string, ShapeState>();
  /** A number for each variable and captured tensor, so that signatures tell them apart. */
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;
  private readonly idOf = (o: object): number => {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  };
  private checkNext = false;

  /**
   * `shapeKey` names what of the inputs' shapes the step depends on (a step
   * of another shape is another function); by default, all of them.
   */
  constructor(
    private readonly backend: NativeBackend | null,
    private readonly body: (inputs: I) => Tensor[],
    private readonly shapeKey: (inputs: I) => string = (inputs) =>
      inputs.map((t) => `${t.dtype}[${t.shape.join(",")}]`).join(" "),
  ) {}

  /** Whether steps can run as functions here (TensorFlow, with a binding that makes functions). */
  static possible(backend: NativeBackend | null): backend is NativeBackend {
    return backend !== null && canMakeFunctions(backend);
  }

  /** Records the next step again and compares it with the function in use (fit calls this at each epoch's start). */
  recheck(): void {
    this.checkNext = true;
    for (const [key, state] of this.shapes)
      if (state.kind !== "refused") this.shapes.set(key, { ...state, attempts: 0 });
  }

  /** Per shape of the inputs, whether the step runs as a function, and why not when it stays eager for good. */
  status(): Record<string, { compiled: boolean; refused: string | null }> {
    return Object.fromEntries(
      [...this.shapes].map(([k, s]) => [
        k,
        { compiled: s.kind === "compiled", refused: s.kind === "refused" ? s.reason : null },
      ]),
    );
  }

  /** Why the step stays eager for good (the first shape refused), or null. */
  refusal(): string | null {
    for (const state of this.shapes.values()) if (state.kind === "refused") return state.reason;
    return null;
  }

  run(inputs: I): Tensor[] {
    const backend = this.backend;
    if (!CompiledStep.possible(backend)) return this.body(inputs);
    const key = this.shapeKey(inputs);
    const checking = this.checkNext;
    this.checkNext = false;
    const [results, next] = this.advance(backend, this.shapes.get(key) ?? RECORDING, inputs, checking);
    this.shapes.set(key, next);
    return results;
  }

  /** One step in `state`: its results and the state after it. Every transition of ShapeState is here. */
  private advance(backend: NativeBackend, state: ShapeState, inputs: I, checking: boolean): [Tensor[], ShapeState] {
    if (state.kind === "refused") return [this.body(inputs), state];
    if (state.kind === "compiled" && !checking) {
      let results: Tensor[] | null;
      try {
        results = this.call(backend, state.function, inputs);
      } catch (error) {
        // Op by op from here on: a genuine problem then fails again, where its message names the op.
        return [this.body(inputs), refused(`TensorFlow could not run the step as a function: ${firstLine(error)}`)];
      }
      // null: something it captured is gone, so it is recorded again
      return results === null ? this.advance(backend, RECORDING, inputs, false) : [results, state];
    }
    const { results, recording, spoiled } = record(backend, inputs, this.body, this.idOf);
    const attempts = state.attempts + 1;
    const agreed = state.kind === "compiled" ? state.function.recording : state.previous;
    if (recording !== null && agreed?.signature === recording.signature) {
      if (state.kind === "compiled") return [results, { ...state, attempts: 0 }];
      try {
        return [
          results,
          { kind: "compiled", function: { recording, name: registerFunction(backend, recording.spec) }, attempts: 0 },
        ];
      } catch (error) {
        return [results, refused(`TensorFlow did not take the step as a function: ${firstLine(error)}`)];
      }
    }
    if (attempts >= ATTEMPTS) {
      return [
        results,
        refused(
          spoiled ??
            "the step differed from one recording to the next (a value JavaScript makes changed between two steps)",
        ),
      ];
    }
    return [results, { kind: "recording", previous: recording, attempts }];
  }

  /** One call of the function; null if a tensor it takes was freed since it was recorded. */
  private call(backend: NativeBackend, { recording, name }: Compiled, inputs: I): Tensor[] | null {
    const gone = (a: Argument) =>
      a.kind === "variable"
        ? a.variable.isDisposed
        : a.kind === "captured" && tensorInfo(backend, a.dataId) === undefined;
    if (recording.arguments.some(gone)) return null;
    // after the check: a maker may count its calls (dropout's seeds)
    const made = recording.makers.map((make) => make());
    const args = recording.arguments.map((a): Tensor => {
      if (a.kind === "input") return inputs[a.index]!;
      if (a.kind === "made") return made[a.index]!;
      if (a.kind === "variable") return a.variable;
      return { dataId: a.dataId } as Tensor; // all the binding reads of an input
    });
    const outputs = backend.executeMultipleOutputs(name, [], args, recording.spec.results.length);
    const count = outputs.length - recording.assigned.length;
    recording.assigned.forEach((variable, i) => variable.assign(outputs[count + i]!));
    recording.effects.forEach((effect) => effect());
    return outputs.slice(0, count);
  }
}
