/** MNIST as the seed prepares it, for the tests that train: the first `limit` examples, [n, 28, 28, 1], values in [0, 1], one-hot labels. */
import { loadMnist, type MnistData } from "../src/data/mnist";

export async function preparedMnist(limit: number): Promise<MnistData> {
  const data = await loadMnist({ limit });
  data.reshape([28, 28, 1]);
  data.rescale(255);
  data.toCategorical(10);
  return data;
}
