import { describe, expect, it } from "vitest";
import { checkParameters, DEFAULT_PARAMETERS, ParameterError, parseParameterValue } from "../../src/notebook/parameters";
import { notebookCells, tempDir } from "../helpers";

describe("checkParameters", () => {
  it("returns the defaults (the seed's settings) when nothing is overridden", () => {
    expect(checkParameters({})).toEqual(DEFAULT_PARAMETERS);
    expect(DEFAULT_PARAMETERS).toMatchObject({ epochs: 6, batchSize: 128, learningRate: 1.0, validationSplit: 0.2, dropoutConv: 0.25, dropoutDense: 0.5 });
  });

  it("accepts valid overrides, including an existing dataDir", () => {
    const dir = tempDir("data");
    expect(checkParameters({ epochs: 1, sampleLimit: 2000, dataDir: dir, dropoutConv: 0 })).toMatchObject({ epochs: 1, sampleLimit: 2000, dataDir: dir, dropoutConv: 0 });
  });

  it.each([
    [{ epochs: 0 }, "epochs = 0: must be a whole number greater than 0, e.g. epochs = 6."],
    [{ epochs: 2.5 }, "epochs = 2.5: must be a whole number greater than 0"],
    [{ batchSize: "128" }, 'batchSize = "128": must be a whole number greater than 0'],
    [{ learningRate: 0 }, "learningRate = 0: must be a number greater than 0, e.g. learningRate = 1.0."],
    [{ validationSplit: 1 }, "validationSplit = 1: must be a number from 0 (no validation) up to, not including, 1"],
    [{ validationSplit: -0.1 }, "validationSplit = -0.1: must be a number from 0"],
    [{ dropoutConv: 1 }, "dropoutConv = 1: must be a number from 0 (no dropout) up to, not including, 1"],
    [{ dropoutDense: -0.5 }, "dropoutDense = -0.5: must be a number from 0"],
    [{ sampleLimit: -5 }, "sampleLimit = -5: must be null (all examples) or a whole number greater than 0"],
    [{ seed: 1.5 }, "seed = 1.5: must be a whole number"],
    [{ dataDir: "/no/such/folder" }, 'dataDir = "/no/such/folder": must be an existing folder'],
    [{ epoch: 3 }, "epoch: no such parameter (did you mean epochs?)"],
  ])("rejects %o naming the parameter, the value and what is allowed", (raw, message) => {
    expect(() => checkParameters(raw)).toThrow(ParameterError);
    expect(() => checkParameters(raw)).toThrow(message);
  });

  it("reports every problem at once", () => {
    expect(() => checkParameters({ epochs: -1, batchSize: 0 })).toThrow(/Invalid parameters:\n {2}epochs = -1.*\n {2}batchSize = 0/);
  });
});

describe("parseParameterValue", () => {
  it("reads numbers, null and booleans as such and anything else as text, like papermill's -p", () => {
    expect(parseParameterValue("1")).toBe(1);
    expect(parseParameterValue("0.25")).toBe(0.25);
    expect(parseParameterValue("1e-3")).toBe(0.001);
    expect(parseParameterValue("null")).toBeNull();
    expect(parseParameterValue("true")).toBe(true);
    expect(parseParameterValue("six")).toBe("six");
    expect(parseParameterValue("/data/mnist")).toBe("/data/mnist");
    expect(parseParameterValue("")).toBe("");
  });
});

describe("the notebook's parameters cell", () => {
  const cells = notebookCells();
  const parametersCell = cells.find((c) => c.startsWith("// Parameters"))!;

  it("holds exactly DEFAULT_PARAMETERS, so the two cannot drift apart", () => {
    const declared = Object.fromEntries(
      [...parametersCell.matchAll(/^let (\w+)(?:: [^=]+)? = (.+?);/gm)].map(([, name, value]) => [name, JSON.parse(value!)]),
    );
    expect(declared).toEqual({ ...DEFAULT_PARAMETERS });
  });

  it("has every parameter used where Keras uses it, in a cell after it", () => {
    const after = cells.slice(cells.indexOf(parametersCell) + 1).join("\n");
    const unused = Object.keys(DEFAULT_PARAMETERS).filter((name) => !new RegExp(`(?<![\\w.])${name}(?![\\w:])`).test(after));
    expect(unused).toEqual([]);
    expect(after).toMatch(/batchSize: batchSize, epochs: epochs, verbose: 1, validationSplit: validationSplit/);
  });
});
