import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/core/memory";

describe("collectGarbage", () => {
  it("frees what nothing refers to any more, at once", () => {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    let garbage: number[][] | null = Array.from({ length: 400 }, (_, i) => Array.from({ length: 20_000 }, (_, j) => i + j + 0.5));
    const held = process.memoryUsage().heapUsed;
    expect(held - before).toBeGreaterThan(40 * 2 ** 20); // 8 million doubles
    expect(garbage.length).toBe(400);
    garbage = null;
    collectGarbage();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(5 * 2 ** 20);
  });
});
