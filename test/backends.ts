import { tf } from "../src/core/backend";

/** Runs `body` on another tfjs backend (e.g. the pure-JS "cpu"), then returns to TensorFlow's. */
export async function onBackend<T>(name: string, body: () => T): Promise<T> {
  await tf.setBackend(name);
  try {
    return body();
  } finally {
    await tf.setBackend("tensorflow");
  }
}
