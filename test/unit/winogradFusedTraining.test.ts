/** Every convolution pass on Winograd's F(4×4) fused: one native op per pass. */
import { describe, it } from "vitest";
import { forcedKernels, trainsOnWinograd } from "./winogradTraining";

// Read when the engine first runs an op: set before anything loads it.
process.env.DEEPCONV_KERNELS = forcedKernels("winograd4-fused");

describe("training on Winograd's fused kernels", () => {
  it("gives the same weights op by op and as one function, and the loss falls", () =>
    trainsOnWinograd("winograd4-fused", ["DeepConvWinogradConv", "DeepConvWinogradConvInputGrad", "DeepConvWinogradConvFilterGrad"]));
});
