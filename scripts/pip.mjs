// pip, run quietly for the set-up and the benchmark.
import { spawnSync } from "node:child_process";

// urllib3 logs one "Retrying … Failed to establish a new connection" warning per
// package when pip's main index is unreachable (offline, packages from another
// configured index); -qq does not silence vendored loggers. Those lines say
// nothing the user can act on when the install succeeds, so they are counted.
const RETRY_WARNING = /^WARNING: Retrying \(Retry\(.*$/;

/**
 * Runs `python -m pip ...args` and returns its exit status. pip's errors and
 * other warnings pass through; the per-request retry warnings are summarised
 * through `log`, or shown in full when pip fails.
 */
export function pip(python, args, log = console.log) {
  const result = spawnSync(python, ["-m", "pip", ...args], {
    // Five retries per package (pip's default) against an unreachable index
    // turned a 40 s install into 12 minutes here; one still rides out a hiccup.
    env: { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? "1" },
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    process.stderr.write(`${python}: ${result.error.message}\n`);
    return 127;
  }
  const lines = result.stderr.split("\n").filter((l) => l.trim() !== "");
  const retries = lines.filter((l) => RETRY_WARNING.test(l)).length;
  const shown = result.status === 0 ? lines.filter((l) => !RETRY_WARNING.test(l)) : lines;
  if (shown.length > 0) process.stderr.write(`${shown.join("\n")}\n`);
  if (result.status === 0 && retries > 0) {
    log(`pip: an index was unreachable (${retries} requests); the packages came from the other configured indexes`);
  }
  return result.status ?? 1;
}
