import type { Tensor } from "@tensorflow/tfjs-node";
import { describe, expect, it } from "vitest";
import { tf } from "../../src/core/backend";
import { ResourceVariable } from "../../src/engine/variables";

describe("ResourceVariable", () => {
  it("holds, updates and frees a value in TensorFlow", () => {
    const variable = ResourceVariable.create(tf.tensor1d([1, 2, 3]))!;
    expect(Array.from(variable.read().dataSync())).toEqual([1, 2, 3]);
    variable.assign(tf.tensor1d([4, 5, 6]));
    expect(Array.from(variable.read().dataSync())).toEqual([4, 5, 6]);
    const handle = variable.handle.clone(); // outlives dispose(), to look the variable up afterwards
    const tensors = tf.memory().numTensors;
    variable.dispose();
    expect(tf.memory().numTensors).toBe(tensors - 1);
    const backend = tf.backend() as unknown as {
      binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
      executeSingleOutput: (name: string, attrs: unknown[], inputs: Tensor[]) => Tensor;
    };
    const dtype = { name: "dtype", type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
    const read = () => backend.executeSingleOutput("ReadVariableOp", [dtype], [handle]);
    expect(read).toThrow(/not found|does not exist|uninitialized/i);
    handle.dispose();
  });
});
