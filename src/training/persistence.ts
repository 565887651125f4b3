/**
 * Saving a model folder (tfjs's model.json and weights.bin) so that an
 * interrupted save never leaves a half-written copy in place of a complete
 * earlier one, and a folder whose parents do not exist yet is made.
 */
import fs from "node:fs";
import path from "node:path";

/**
 * Has `write` fill a staging folder beside `dir`, which then replaces `dir`
 * whole (tfjs's file handler itself writes in place and needs the parent).
 */
export async function writeFolderAtomic<T>(dir: string, write: (staging: string) => Promise<T>): Promise<T> {
  const target = path.resolve(dir);
  const staging = `${target}.${process.pid}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    const result = await write(staging);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(staging, target);
    return result;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
