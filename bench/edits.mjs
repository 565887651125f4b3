// The students' edits of bench/edits.json as layer lists, shared by the bench's TypeScript side
// (keras_side.py reads the same file): `set` merges arguments into a base layer, `replace` swaps
// it, `after` inserts layers after it; `loss` changes the loss.
import fs from "node:fs";

const file = new URL("./edits.json", import.meta.url);

export function editList() {
  const { base, edits } = JSON.parse(fs.readFileSync(file, "utf8"));
  return edits.map((edit) => {
    const layers = base.flatMap(([kind, config], i) => [
      edit.replace?.[i] ?? [kind, { ...config, ...edit.set?.[i] }],
      ...(edit.after?.[i] ?? []),
    ]);
    return { name: edit.name, layers, loss: edit.loss ?? "categoricalCrossentropy" };
  });
}

/** One edit as a compiled model, built through kerasLayers(42) as a notebook cell would (the bench's TS side, the profiler). */
export function buildEdit(helpers, edit) {
  const layers = helpers.kerasLayers(42);
  const model = layers.sequential({ name: "edit" });
  edit.layers.forEach(([kind, config], i) => model.add(layers[kind](i === 0 ? { ...config, inputShape: [28, 28, 1] } : config)));
  model.compile({ loss: edit.loss, optimizer: helpers.adadelta({ learningRate: 1.0 }), metrics: ["accuracy"] });
  return model;
}
