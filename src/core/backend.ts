/**
 * The one place that loads TensorFlow: @tensorflow/tfjs-node on its native
 * binding. Every other module imports `tf` from here, so a missing binding
 * is reported once, in plain words, instead of as a stack trace.
 */
type TfNode = typeof import("@tensorflow/tfjs-node");

function loadTensorflow(): TfNode {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@tensorflow/tfjs-node") as TfNode;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(
      "TensorFlow's native binding for @tensorflow/tfjs-node is missing or broken "
        + `(${detail}). Repair it from the project folder with: npm run setup`,
    );
  }
}

export const tf: TfNode = loadTensorflow();
