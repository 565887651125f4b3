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
