// The students' edits of bench/edits.json as layer lists, shared by the bench's TypeScript side
// (keras_side.py reads the same file): `base` names the seed's model edited (model 1 unless given),
// `set` merges arguments into a base layer, `replace` swaps it, `after` inserts layers after it,
// `before` puts layers in front of the first; `loss` changes the loss; `goal` is the edit's TS/Keras goal.
import fs from "node:fs";

const file = new URL("./edits.json", import.meta.url);

export function editList() {
  const { bases, edits } = JSON.parse(fs.readFileSync(file, "utf8"));
  return edits.map((edit) => {
    const base = bases[edit.base ?? "model 1"];
    if (base === undefined) throw new Error(`bench/edits.json: edit "${edit.name}" names base "${edit.base}"; the bases are ${Object.keys(bases).join(", ")}.`);
    const layers = [...(edit.before ?? []), ...base.flatMap(([kind, config], i) => [
      edit.replace?.[i] ?? [kind, { ...config, ...edit.set?.[i] }],
      ...(edit.after?.[i] ?? []),
    ])];
    return { name: edit.name, layers, loss: edit.loss ?? "categoricalCrossentropy", goal: edit.goal ?? 1 };
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
