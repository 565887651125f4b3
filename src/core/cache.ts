/**
 * The project's cache folder, for the TensorFlow library set-up unpacks and the
 * data sets a download fetches: DEEPCONV_CACHE_DIR, else deep-convolution in the
 * XDG cache (~/.cache). scripts/setup.mjs reads it from the compiled dist/core/cache.js.
 */
import os from "node:os";
import path from "node:path";

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.DEEPCONV_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "deep-convolution")
  );
}
