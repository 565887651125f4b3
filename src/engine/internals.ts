/**
 * The one module that reaches TensorFlow.js's private parts: the backend's
 * tensor map, the engine's tensor ids and registered variables, and the hooks
 * the step recorder (compiled.ts) puts over the backend's op calls, its reads
 * and Variable.assign. test/unit/architecture.test.ts holds every other file
 * of src/ away from them; the tfjs-node version they were checked against is
 * CHECKED_TFJS_NODE (index.ts).
 */
import type { Tensor, Variable } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import type { NativeBackend, OpAttr } from "./binding";

/** What TensorFlow holds for a tensor: its handle's id, or its values not yet uploaded, and its TensorFlow dtype. */
export interface TensorInfo {
  id: number;
  values: ArrayLike<number> | null;
  dtype: number;
  shape: number[];
}

type TensorMap = { get(dataId: object): TensorInfo | undefined; has(dataId: object): boolean };
const tensorMap = (backend: NativeBackend) => (backend as unknown as { tensorMap: TensorMap }).tensorMap;

/** What TensorFlow holds for the tensor of `dataId`, or undefined once it is freed. */
export const tensorInfo = (backend: NativeBackend, dataId: object): TensorInfo | undefined =>
  tensorMap(backend).get(dataId);

/**
 * The id the next tensor made will get, i.e. how many were made so far: tensors with a smaller one were made before.
 */
export const tensorCount = (): number => (tf.engine() as unknown as { nextTensorId(): number }).nextTensorId();

/** Every variable tfjs holds now. */
export const allVariables = (): Variable[] => Object.values(tf.engine().registeredVariables);

/** The variable tfjs holds under `name` (a weight's, "conv2d/kernel"), if any. */
export const variableNamed = (name: string): Variable | undefined => tf.engine().registeredVariables[name];

/** What the recorder is told while its hooks are on. */
export interface OpHooks {
  /** An op ran on the backend, with its inputs and outputs. */
  op(name: string, attrs: OpAttr[], inputs: Tensor[], outputs: Tensor[]): void;
  /** JavaScript is about to read the values of `dataId`. */
  read(dataId: object): void;
  /** `variable` is about to be assigned `value`. */
  assign(variable: Variable, value: Tensor): void;
}

/**
 * Puts `hooks` over the backend's op calls, its reads and every Variable's
 * assign, which go on as before; returns what takes them off, leaving each
 * as it was (the prototype's own, or what a profiler put over it).
 */
export function hookOps(backend: NativeBackend, hooks: OpHooks): () => void {
  const names = ["executeSingleOutput", "executeMultipleOutputs", "readSync"] as const;
  const own = names.map((name) => [name, Object.getOwnPropertyDescriptor(backend, name)] as const);
  const single = backend.executeSingleOutput;
  const multiple = backend.executeMultipleOutputs;
  const readSync = backend.readSync;
  const assign = tf.Variable.prototype.assign;
  backend.executeSingleOutput = function (name, attrs, inputs) {
    const out = single.call(this, name, attrs, inputs);
    hooks.op(name, attrs, inputs, [out]);
    return out;
  };
  backend.executeMultipleOutputs = function (name, attrs, inputs, count) {
    const out = multiple.call(this, name, attrs, inputs, count);
    hooks.op(name, attrs, inputs, out);
    return out;
  };
  backend.readSync = function (dataId) {
    hooks.read(dataId);
    return readSync.call(this, dataId);
  };
  tf.Variable.prototype.assign = function (this: Variable, value: Tensor) {
    hooks.assign(this, value);
    assign.call(this, value);
  };
  return () => {
    for (const [name, descriptor] of own) {
      if (descriptor === undefined) delete (backend as Partial<NativeBackend>)[name];
      else Object.defineProperty(backend, name, descriptor);
    }
    tf.Variable.prototype.assign = assign;
  };
}
