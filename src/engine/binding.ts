/**
 * TensorFlow's native binding under tfjs-node, called op by op: the backend
 * when TensorFlow runs (null on tfjs's other backends), attribute builders,
 * small constants made once, and whether this TensorFlow build has an op.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";

export interface OpAttr {
  name: string;
  type: number;
  value: number | number[] | string | string[] | boolean;
}

export interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_STRING: number;
    TF_ATTR_INT: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_SHAPE: number;
    TF_FLOAT: number;
    TF_INT32: number;
    TF_BOOL: number;
    TF_RESOURCE: number;
    /** TensorFlow's uint8: tfjs-node labels such tensors int32, so only native ops may touch them. */
    TF_UINT8: number;
    /** The TensorFlow C library's version, e.g. "2.21.0". */
    TF_Version: string;
    tensorDataSync(id: number): ArrayLike<number>;
    /** Registers a GraphDef as a function (graph.ts); only a binding compiled with patches/' change has it. */
    addGraphFunction?(
      name: string,
      graphDef: Uint8Array,
      inputs: string[],
      outputs: string[],
      controlOutputs: string[],
    ): void;
    /** Every op TensorFlow has registered, as a serialized OpList (patches/' change too). */
    getAllOpList?(): Uint8Array;
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: Tensor[]): Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: Tensor[], count: number): Tensor[];
  readSync(dataId: object): unknown;
}

export function native(): NativeBackend | null {
  return tf.getBackend() === "tensorflow" ? (tf.backend() as unknown as NativeBackend) : null;
}

/** Builders for the attributes ops take. */
export function attributes({ binding }: NativeBackend) {
  return {
    type: (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value }),
    float: { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT } as OpAttr,
    bool: (name: string, value: boolean): OpAttr => ({ name, type: binding.TF_ATTR_BOOL, value }),
    ints: (name: string, value: number[]): OpAttr => ({ name, type: binding.TF_ATTR_INT, value }),
    int: (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_INT, value }),
    f32: (name: string, value: number): OpAttr => ({ name, type: binding.TF_ATTR_FLOAT, value }),
    /** Lists of strings and of types: only a binding with patches/' change takes them (hasOp tells). */
    strings: (name: string, value: string[]): OpAttr => ({ name, type: binding.TF_ATTR_STRING, value }),
    types: (name: string, value: number[]): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value }),
    string: (name: string, value: string): OpAttr => ({ name, type: binding.TF_ATTR_STRING, value }),
    /** The label that selects oneDNN's kernel of an `_Mkl…` op. */
    oneDNN: { name: "_kernel", type: binding.TF_ATTR_STRING, value: "MklNameChangeOp" } as OpAttr,
  };
}

const constants = new Map<string, Tensor>();

/**
 * A small constant tensor (a shape, a scalar) made once and kept: steps run
 * inside tidy, and making it again each time costs an upload to TensorFlow.
 */
export function constant(key: string, make: () => Tensor): Tensor {
  let tensor = constants.get(key);
  if (tensor === undefined) constants.set(key, (tensor = tf.keep(make())));
  return tensor;
}

/** A shape (or any int32 vector) as the tensor TensorFlow's ops take. */
export const intVector = (values: number[]) =>
  constant(`int32 ${values.join(",")}`, () => tf.tensor1d(values, "int32"));
export const floatScalar = (value: number) => constant(`float ${value}`, () => tf.scalar(value));

/** Whether this TensorFlow build runs the op `probe` calls (oneDNN's kernels are not in every build). */
export function hasOp(probe: () => Tensor | Tensor[]): boolean {
  try {
    tf.tidy(() => {
      probe();
    });
    return true;
  } catch {
    return false;
  }
}
