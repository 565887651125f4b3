import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CHECKED_TFJS_NODE } from "../../src/engine";

describe("the engine's tripwire", () => {
  it("runs on the tfjs-node whose internals it was checked against", () => {
    const installed = (createRequire(__filename)("@tensorflow/tfjs-node/package.json") as { version: string }).version;
    expect(
      installed,
      `@tensorflow/tfjs-node ${installed} is installed, but src/engine/ reaches into the internals of ${CHECKED_TFJS_NODE} `
        + "(the binding's op calls, _MklNative* ops, registeredVariables, tfjs-layers' dist types). Check each of them against "
        + "the new version, run npm test, then set CHECKED_TFJS_NODE in src/engine/index.ts.",
    ).toBe(CHECKED_TFJS_NODE);
  });
});
