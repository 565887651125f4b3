import { describe, expect, it } from "vitest";
import { encodeIdx, IdxFormatError, parseIdx } from "../../src/data/idx";

describe("parseIdx", () => {
  it("reads a crafted images file: big-endian dimensions, row-major bytes", () => {
    const bytes = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 1, 0, ...Array.from({ length: 1024 }, (_, i) => i % 256)]);
    // dims: 2 × 2 × 256 — the 256 checks that dimensions are read big-endian (0x00000100)
    const idx = parseIdx(bytes);
    expect(idx.shape).toEqual([2, 2, 256]);
    expect(idx.data.length).toBe(1024);
    expect(idx.data[0]).toBe(0);
    expect(idx.data[257]).toBe(1);
  });

  it("reads a labels file and round-trips with encodeIdx", () => {
    const labels = Uint8Array.from([5, 0, 4, 1, 9]);
    const idx = parseIdx(encodeIdx([5], labels));
    expect(idx.shape).toEqual([5]);
    expect(Array.from(idx.data)).toEqual([5, 0, 4, 1, 9]);
  });

  it("rejects a wrong magic number, naming the file and what was expected", () => {
    const gz = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect(() => parseIdx(gz, "train-images-idx3-ubyte")).toThrow(IdxFormatError);
    expect(() => parseIdx(gz, "train-images-idx3-ubyte")).toThrow(/train-images-idx3-ubyte: magic number 0x1f8b0800 .*0x00000803/);
    const floats = Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => parseIdx(floats, "f")).toThrow(/not an unsigned-byte IDX file/);
  });

  it("rejects truncated data, a truncated header and trailing bytes with the numbers involved", () => {
    const full = encodeIdx([3, 2, 2], new Uint8Array(12));
    expect(() => parseIdx(full.subarray(0, full.length - 5), "t")).toThrow(/shape \[3, 2, 2\] = 12 bytes of data, but the file holds 7 \(truncated download\?\)/);
    expect(() => parseIdx(full.subarray(0, 9), "t")).toThrow(/announces 3 dimensions but the file ends after 9 bytes/);
    expect(() => parseIdx(Uint8Array.from([...full, 1]), "t")).toThrow(/holds 13 \(trailing bytes\)/);
    expect(() => parseIdx(Uint8Array.from([0, 0]), "t")).toThrow(/2 bytes is too short/);
  });

  it("encodeIdx refuses data that does not fill the shape", () => {
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(/needs 4 values, got 3/);
  });
});
