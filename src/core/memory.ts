/**
 * Giving back what a fit leaves behind. V8 collects its garbage only when the
 * heap has grown to about twice what is alive, so a kernel whose fit cells a
 * student re-runs all afternoon sits 100 to 170 MB above what it holds
 * (measured: docs/PERFORMANCE.md); a full collection after each fit, about a
 * tenth of a second, brings it back. Node exposes the collector only behind a
 * flag, which is set at run time as Jest does for --logHeapUsage.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | null | undefined;

/** Runs a full garbage collection, where this Node allows one; otherwise does nothing. */
export function collectGarbage(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    try {
      if (exposed === undefined) v8.setFlagsFromString("--expose-gc");
      collect = exposed ?? (vm.runInNewContext("gc") as () => void);
    } catch {
      collect = null;
    }
  }
  collect?.();
}
