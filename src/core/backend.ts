/**
 * The one place that loads TensorFlow: @tensorflow/tfjs-node on its native
 * binding. Every other module imports `tf` from here, so a missing binding
 * is reported once, in plain words, instead of as a stack trace.
 */
type TfNode = typeof import("@tensorflow/tfjs-node");

/**
 * TensorFlow's own caching allocator (BFC) for CPU tensors, unless the user chose:
 * with the default (glibc's malloc) each step's large tensors left freed memory
 * behind in malloc's arenas, 160-230 MB more at peak than Keras and growing over
 * re-runs, and returning it to the system instead (mmap per tensor) cost a page
 * fault per 4 KiB touched. TensorFlow reads the setting once, when the binding
 * starts, so it is set before the first require. Measured: docs/PERFORMANCE.md.
 */
function chooseAllocator(env: NodeJS.ProcessEnv = process.env): void {
  env.TF_CPU_ALLOCATOR_USE_BFC ??= "true";
}

function loadTensorflow(): TfNode {
  chooseAllocator();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@tensorflow/tfjs-node") as TfNode;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(
      "TensorFlow's native binding for @tensorflow/tfjs-node is missing or broken " +
        `(${detail}). Repair it from the project folder with: npm run setup`,
    );
  }
}

export const tf: TfNode = loadTensorflow();
