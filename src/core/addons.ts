/**
 * The project's own native code (native/): where each addon's source is and
 * where set-up builds it. The built file's name carries a digest of its
 * source, so an edited source is never run from a stale build: set-up
 * (scripts/setup.mjs, which reads this from dist/core/addons.js) builds the
 * new one, and until then the engine goes without it.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** The project's folder: this file is in src/core or dist/core. */
export const projectRoot = path.resolve(__dirname, "..", "..");

export interface Addon {
  /** Its C++ source. */
  source: string;
  /** Where set-up puts it when built from that very source. */
  built: string;
}

export function addon(name: string, root = projectRoot): Addon {
  const source = path.join(root, "native", `${name}.cc`);
  const digest = createHash("sha256").update(fs.readFileSync(source)).digest("hex").slice(0, 12);
  return { source, built: path.join(root, "build", `${name}-${digest}.node`) };
}
