/**
 * TensorFlow resource variables: float32 state that TensorFlow's training ops
 * (ResourceApplyAdadelta) update in place, created, read, assigned and freed
 * through the native binding.
 */
import type { Tensor } from "@tensorflow/tfjs-node";
import { tf } from "../core/backend";
import { native, type NativeBackend, type OpAttr } from "./binding";

let resourceCount = 0;

/**
 * A TensorFlow resource variable: float32 state that TensorFlow's training ops
 * update in place. Reads share its buffer; an update while a read is alive
 * writes to a fresh copy (TensorFlow's copy-on-write), so a tensor once read
 * never changes. Its memory is TensorFlow's until `dispose()`.
 */
export class ResourceVariable {
  private constructor(
    private readonly backend: NativeBackend,
    readonly handle: Tensor,
  ) {}

  /** A resource variable holding `initial`, or null outside the TensorFlow backend. */
  static create(initial: Tensor): ResourceVariable | null {
    const backend = native();
    if (backend === null) return null;
    const { binding } = backend;
    const handle = backend.executeSingleOutput(
      "VarHandleOp",
      [
        { name: "container", type: binding.TF_ATTR_STRING, value: "" },
        {
          name: "shared_name",
          type: binding.TF_ATTR_STRING,
          value: `deep_convolution_${process.pid}_${resourceCount++}`,
        },
        { name: "dtype", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: "shape", type: binding.TF_ATTR_SHAPE, value: initial.shape },
      ],
      [],
    );
    const variable = new ResourceVariable(backend, tf.keep(handle));
    variable.assign(initial);
    return variable;
  }

  private dtype(): OpAttr {
    return { name: "dtype", type: this.backend.binding.TF_ATTR_TYPE, value: this.backend.binding.TF_FLOAT };
  }

  read(): Tensor {
    return this.backend.executeSingleOutput("ReadVariableOp", [this.dtype()], [this.handle]);
  }

  assign(value: Tensor): void {
    this.backend.executeMultipleOutputs("AssignVariableOp", [this.dtype()], [this.handle, value], 0);
  }

  /** Frees the variable's memory in TensorFlow (disposing the handle alone would not). */
  dispose(): void {
    const { binding } = this.backend;
    this.backend.executeMultipleOutputs(
      "DestroyResourceOp",
      [{ name: "ignore_lookup_error", type: binding.TF_ATTR_BOOL, value: true }],
      [this.handle],
      0,
    );
    this.handle.dispose();
  }

  /**
   * One step of TensorFlow's ApplyAdadelta on this variable, in place:
   * Eg² ← ρ·Eg² + (1−ρ)·g², Δ = √(EΔ² + ε)/√(Eg² + ε)·g, θ ← θ − lr·Δ, EΔ² ← ρ·EΔ² + (1−ρ)·Δ².
   */
  applyAdadelta(
    accumulatedGrad: ResourceVariable,
    accumulatedDelta: ResourceVariable,
    hyper: { learningRate: Tensor; rho: Tensor; epsilon: Tensor },
    gradient: Tensor,
  ): void {
    const { binding } = this.backend;
    this.backend.executeMultipleOutputs(
      "ResourceApplyAdadelta",
      [
        { name: "T", type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: "use_locking", type: binding.TF_ATTR_BOOL, value: false },
      ],
      [
        this.handle,
        accumulatedGrad.handle,
        accumulatedDelta.handle,
        hyper.learningRate,
        hyper.rho,
        hyper.epsilon,
        gradient,
      ],
      0,
    );
  }
}
