// The students' edits of bench/edits.json as layer lists, shared by the bench's TypeScript side
// (keras_side.py reads the same file): `base` names the seed's model edited (model 1 unless given),
// `set` merges arguments into a base layer, `replace` swaps it, `after` inserts layers after it,
// `before` puts layers in front of the first; `loss` changes the loss; `goal` is the edit's TS/Keras goal;
// `tfLayers` builds the model the tutorials' way (tf.sequential(), tf.layers.*, tf.train.adadelta), and a layer
// named "tf.layers.<kind>" is tfjs-layers' own in a kerasLayers model.
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
    return { name: edit.name, layers, loss: edit.loss ?? "categoricalCrossentropy", goal: edit.goal ?? 1, tfLayers: edit.tfLayers ?? false };
  });
}

/**
 * One edit as a compiled model, built as a notebook cell would (the bench's TS side, the profiler): through
 * kerasLayers(42), or with `tfLayers` through the package's tf.sequential() and tf.layers.
 */
export function buildEdit(helpers, edit) {
  const { tf } = helpers;
  const layers = helpers.kerasLayers(42);
  const model = edit.tfLayers ? tf.sequential({ name: "edit" }) : layers.sequential({ name: "edit" });
  edit.layers.forEach(([kind, config], i) => {
    const own = kind.startsWith("tf.layers.") || edit.tfLayers;
    const make = own ? tf.layers[kind.replace(/^tf\.layers\./, "")] : layers[kind];
    model.add(make(i === 0 ? { ...config, inputShape: [28, 28, 1] } : config));
  });
  const optimizer = edit.tfLayers ? tf.train.adadelta(1.0) : helpers.adadelta({ learningRate: 1.0 });
  model.compile({ loss: edit.loss, optimizer, metrics: ["accuracy"] });
  return model;
}
