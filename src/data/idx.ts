/**
 * The IDX file format of the MNIST distribution: a big-endian header
 * (two zero bytes, a type code, the number of dimensions, then each
 * dimension as a uint32) followed by the values, row-major.
 */

import { UserError } from "../core/errors";

const UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28] for training images. */
  shape: number[];
  /** The values, row-major, as unsigned bytes (the only type MNIST uses). */
  data: Uint8Array;
}

/** Raised when a buffer is not a well-formed unsigned-byte IDX file. */
export class IdxFormatError extends UserError {}

/**
 * Parses an unsigned-byte IDX buffer (MNIST's images and labels).
 * `source` names the file in error messages.
 */
export function parseIdx(buffer: Uint8Array, source = "IDX data"): IdxArray {
  if (buffer.length < 4) {
    throw new IdxFormatError(`${source}: ${buffer.length} bytes is too short for an IDX header (at least 4 expected).`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const magic = view.getUint32(0, false);
  const typeCode = buffer[2];
  const rank = buffer[3] ?? 0;
  if (buffer[0] !== 0 || buffer[1] !== 0 || typeCode !== UNSIGNED_BYTE || rank < 1) {
    throw new IdxFormatError(
      `${source}: magic number 0x${magic.toString(16).padStart(8, "0")} is not an unsigned-byte IDX file ` +
        "(expected 0x00000801 for labels or 0x00000803 for images). Is it compressed, or another file?",
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (buffer.length < headerBytes) {
    throw new IdxFormatError(
      `${source}: header announces ${rank} dimensions but the file ends after ${buffer.length} bytes.`,
    );
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const found = buffer.length - headerBytes;
  if (found !== expected) {
    throw new IdxFormatError(
      `${source}: header announces shape [${shape.join(", ")}] = ${expected} bytes of data, but the file holds ` +
        `${found}` +
        (found < expected ? " (truncated download?)." : " (trailing bytes)."),
    );
  }
  return { shape, data: buffer.subarray(headerBytes) };
}

/** Builds an unsigned-byte IDX buffer; the inverse of {@link parseIdx}. */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(`encodeIdx: shape [${shape.join(", ")}] needs ${expected} values, got ${data.length}.`);
  }
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE;
  out[3] = shape.length;
  shape.forEach((dim, i) => view.setUint32(4 + 4 * i, dim, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
