/**
 * With verifyChecksums off, the IDX reader sees whatever bytes a user's
 * folder holds. A thousand random and mutated files each give data or a
 * clear error naming the file: never a crash, a hang or gigabytes allocated.
 */
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist";
import { MAX_IDX_BYTES } from "../../src/data/sources";
import { UserError } from "../../src/core/errors";
import { encodeIdx, IdxFormatError, parseIdx } from "../../src/data/idx";
import { tempDir } from "../helpers";

const NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] as const;

/** Four small, well-formed files: 12 training and 6 test images of 4×5 pixels. */
function originals(): Uint8Array[] {
  const images = (n: number) => encodeIdx([n, 4, 5], Uint8Array.from({ length: n * 20 }, (_, i) => (i * 53) % 256));
  const labels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  return [images(12), labels(12), images(6), labels(6)];
}

/** One way to damage a file, as a function of its bytes. */
const mutation: fc.Arbitrary<(bytes: Uint8Array) => Uint8Array> = fc.oneof(
  fc.record({ at: fc.nat(3), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }) => (b: Uint8Array) => {
    const c = b.slice();
    c[at] = value; // the magic number: type code, rank, the zero bytes
    return c;
  }),
  fc.record({ dim: fc.nat(3), value: fc.oneof(fc.constant(0xffffffff), fc.constant(0x7fffffff), fc.nat(), fc.nat(100)) }).map(({ dim, value }) => (b: Uint8Array) => {
    const c = b.slice();
    if (4 + 4 * dim + 4 <= c.length) new DataView(c.buffer).setUint32(4 + 4 * dim, value, false); // a dimension that overflows or disagrees
    return c;
  }),
  fc.nat().map((cut) => (b: Uint8Array) => b.slice(0, cut % (b.length + 1))), // truncated
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])), // trailing bytes
  fc.record({ cut: fc.nat(), flip: fc.nat(), bit: fc.nat(7) }).map(({ cut, flip, bit }) => (b: Uint8Array) => {
    const gz = zlib.gzipSync(b);
    const c = gz.subarray(0, Math.max(2, cut % (gz.length + 1))); // gzip, damaged: truncated and a bit flipped
    c[flip % c.length]! ^= 1 << bit;
    return new Uint8Array(c);
  }),
  fc.uint8Array({ maxLength: 200 }).map((random) => () => random), // anything at all
);

describe("the IDX reader on arbitrary bytes", () => {
  it("parseIdx: 1,000 random buffers each give data as long as the header says, or an IdxFormatError naming the source", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const { shape, data } = parseIdx(bytes, "mine.idx");
          expect(data.length).toBe(shape.reduce((a, b) => a * b, 1));
          expect(data.buffer).toBe(bytes.buffer); // a view of the file, never a copy the header sized
        } catch (error) {
          expect(error).toBeInstanceOf(IdxFormatError);
          expect((error as Error).message).toMatch(/^mine\.idx: /);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("loadMnist with verifyChecksums false: 1,000 folders with one damaged file each load or name that file", async () => {
    const dir = tempDir("idx-fuzz");
    const good = originals();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const outcomes = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(3), mutation, fc.boolean(), async (which, damage, gzipped) => {
        for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
        good.forEach((bytes, i) => fs.writeFileSync(path.join(dir, NAMES[i]!), bytes));
        const damaged = damage(good[which]!);
        fs.rmSync(path.join(dir, NAMES[which]!));
        fs.writeFileSync(path.join(dir, NAMES[which]! + (gzipped ? ".gz" : "")), gzipped ? zlib.gzipSync(damaged) : damaged);
        try {
          const data = await loadMnist({ dataDir: dir, verifyChecksums: false, log: () => undefined });
          expect(data.xTrain.shape[0]).toBe(data.yTrain.shape[0]);
          expect(data.xTest.shape[0]).toBe(data.yTest.shape[0]);
          outcomes.loaded++;
        } catch (error) {
          expect(error).toBeInstanceOf(UserError);
          expect((error as Error).message).toContain(NAMES[which]!);
          outcomes.refused++;
          return;
        }
        peak = Math.max(peak, process.memoryUsage().rss);
      }),
      { numRuns: 1000 },
    );
    expect(peak - rssBefore).toBeLessThan(512 * 2 ** 20);
    // both sides were exercised: damage that still parses (e.g. trailing bytes in a
    // gzip member) loads, and the rest is refused
    expect(outcomes.loaded + outcomes.refused).toBe(1000);
    expect(outcomes.refused).toBeGreaterThan(500);
    expect(outcomes.loaded).toBeGreaterThan(0);
  }, 120_000);

  it(`refuses a gzip that unpacks past ${MAX_IDX_BYTES / 2 ** 20} MiB without unpacking it all`, async () => {
    const dir = tempDir("idx-bomb");
    const chunk = Buffer.alloc(2 ** 20);
    await pipeline(Readable.from((function* () {
      for (let i = 0; i <= MAX_IDX_BYTES / 2 ** 20; i++) yield chunk;
    })()), zlib.createGzip({ level: 1 }), fs.createWriteStream(path.join(dir, "train-images-idx3-ubyte.gz")));
    originals().slice(1).forEach((bytes, i) => fs.writeFileSync(path.join(dir, NAMES[i + 1]!), bytes));
    await expect(loadMnist({ dataDir: dir, verifyChecksums: false })).rejects.toThrow(/train-images-idx3-ubyte\.gz: unpacks to more than 512 MiB/);
  }, 60_000);
});
