/**
 * Where the IDX files come from and how they are read: a folder (raw or
 * .gz, the usual name variants), a checksummed and cached download, md5
 * checks against the original release, and gunzip with a size cap.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { cacheRoot } from "../core/cache";
import { UserError } from "../core/errors";
import { writeFileAtomic } from "../core/files";
import { FILE_NAMES, type DatasetInfo, type DatasetName, type MnistFileKey } from "./catalogue";
import { parseIdx } from "./idx";

export class DataFileError extends UserError {}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/**
 * The most a gzipped IDX file may unpack to: ten times MNIST's training
 * images. A damaged or hostile file cannot make the loader allocate more.
 */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DataFileError(
        `${file}: unpacks to more than ${MAX_IDX_BYTES / 2 ** 20} MiB, more than an IDX data set for this notebook ` +
          `holds. Replace the file.`,
      );
    }
    throw new DataFileError(
      `${file}: gzip data is corrupt or truncated (${(error as Error).message}). Replace the file.`,
    );
  }
}

/** Verifies an IDX file's content against the known release's md5. */
function checkMd5(bytes: Uint8Array, dataset: DatasetInfo, key: MnistFileKey, file: string): void {
  const found = md5(bytes);
  const expected = dataset.md5[key];
  if (found !== expected) {
    throw new DataFileError(
      `${file}: md5 ${found} does not match the original ${dataset.title} ${FILE_NAMES[key]} (${expected}). ` +
        "The file is damaged or a different data set; replace it, or for your own data set verifyChecksums = false " +
        "(a notebook parameter, or the loader option verifyChecksums: false).",
    );
  }
}

/** Finds `name` in `dir`, accepting the common variants (`.gz`, `train-images.idx3-ubyte`). */
export function findInDir(dir: string, name: string): string {
  const dotted = name.replace(/-(idx\d-ubyte)$/, ".$1");
  const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`].map((n) => path.join(dir, n));
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return found;
  const present = fs.readdirSync(dir).slice(0, 12).join(", ") || "nothing";
  throw new DataFileError(
    `${dir}: no ${name} (or .gz) in this folder; it holds: ${present}. ` +
      "dataDir must point at the folder with the four IDX files.",
  );
}

export async function downloadVerified(
  dataset: DatasetInfo,
  key: MnistFileKey,
  baseUrl: string,
  cacheDir: string,
  verify: boolean,
): Promise<string> {
  const name = FILE_NAMES[key];
  const cached = path.join(cacheDir, name);
  if (fs.existsSync(cached)) {
    const bytes = new Uint8Array(fs.readFileSync(cached));
    if (!verify || md5(bytes) === dataset.md5[key]) return cached;
  }
  const url = new URL(`${name}.gz`, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DataFileError(
      `Downloading ${url} failed: ${(error as Error).message}. Check the connection, or use dataDir.`,
    );
  }
  if (!response.ok)
    throw new DataFileError(`Downloading ${url} failed: HTTP ${response.status} ${response.statusText}.`);
  const bytes = gunzipIfNeeded(new Uint8Array(await response.arrayBuffer()), url);
  if (verify) checkMd5(bytes, dataset, key, url);
  // A failed or interrupted download never replaces a good cached file.
  writeFileAtomic(cached, bytes);
  return cached;
}

export function readIdxFile(file: string, dataset: DatasetInfo, key: MnistFileKey, verify: boolean) {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (error) {
    throw new DataFileError(
      `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
    );
  }
  bytes = gunzipIfNeeded(bytes, file);
  if (verify) checkMd5(bytes, dataset, key, file);
  return parseIdx(bytes, file);
}

export function defaultDownloadCache(dataset: DatasetName = "mnist"): string {
  return path.join(cacheRoot(), dataset);
}
