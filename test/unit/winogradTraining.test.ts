/** Every convolution pass on Winograd's F(4×4) with the transforms and products as separate ops. */
import { describe, it } from "vitest";
import { forcedKernels, trainsOnWinograd } from "./winogradTraining";

// Read when the engine first runs an op: set before anything loads it.
process.env.DEEPCONV_KERNELS = forcedKernels("winograd4");

describe("training on Winograd's kernels", () => {
  it("gives the same weights op by op and as one function, and the loss falls", () =>
    trainsOnWinograd("winograd4", ["DeepConvWinogradInput", "DeepConvWinogradOutput", "DeepConvWinogradOutputGrad", "DeepConvWinogradInputGrad"]));
});
