/** The layout docs/ARCHITECTURE.md describes, held to: each folder a layer, imports pointing only down. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../helpers";

// Lowest first. A module may import from its own layer and the ones before it.
const LAYERS = ["core", "data", "engine", "model", "training", "report", "browser", "notebook"] as const;

const src = path.join(root, "src");
const files = fs.readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => f.replaceAll("\\", "/"));
const layerOf = (file: string) => (file === "index.ts" ? LAYERS.length : LAYERS.indexOf(file.split("/")[0] as (typeof LAYERS)[number]));

describe("src/", () => {
  it("has every module in a layer's folder, and only index.ts at the top", () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
    expect(files.filter((f) => !f.includes("/"))).toEqual(["index.ts"]);
  });

  it("imports only from the same layer or the ones below it", () => {
    const upward: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(path.join(src, file), "utf8");
      for (const [, spec] of text.matchAll(/(?:from|import\(|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec!));
        const target = files.includes(`${resolved}.ts`) ? `${resolved}.ts` : `${resolved}/index.ts`;
        if (layerOf(target) > layerOf(file)) upward.push(`${file} imports ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import circle, type imports included", () => {
    const importsOf = (file: string) =>
      [...fs.readFileSync(path.join(src, file), "utf8").matchAll(/(?:from|import\(|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map(([, spec]) => {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec!));
        return files.includes(`${resolved}.ts`) ? `${resolved}.ts` : `${resolved}/index.ts`;
      });
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        circles.push([...trail.slice(trail.indexOf(file)), file].join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of importsOf(file)) visit(next, [...trail, file]);
      state.set(file, "done");
    };
    files.forEach((f) => visit(f, []));
    expect(circles).toEqual([]);
  });

  it("has no line longer than the formatter's width: prettier wraps code, and comments and strings are wrapped by hand", () => {
    const { printWidth } = JSON.parse(fs.readFileSync(path.join(root, ".prettierrc.json"), "utf8")) as { printWidth: number };
    const long = files.flatMap((file) =>
      fs.readFileSync(path.join(src, file), "utf8").split("\n").flatMap((line, i) => ([...line].length > printWidth ? [`${file}:${i + 1}`] : [])),
    );
    expect(long).toEqual([]);
  });

  it("opens each file with a comment saying its job", () => {
    expect(files.filter((f) => !fs.readFileSync(path.join(src, f), "utf8").startsWith("/**\n * "))).toEqual([]);
  });

  it("keeps the kernel (tslab) to the display module and the browser to browser/", () => {
    const using = (pattern: RegExp) => files.filter((f) => pattern.test(fs.readFileSync(path.join(src, f), "utf8")));
    expect(using(/["']tslab[/"']/)).toEqual(["notebook/display.ts"]);
    expect(using(/["']playwright-core["']|@sparticuz\/chromium/).every((f) => f.startsWith("browser/"))).toBe(true);
  });

  it("fences TensorFlow's internals into engine/, which the rest of src/ reaches only through engine/index.ts", () => {
    const internals = /executeSingleOutput|executeMultipleOutputs|registeredVariables|_Mkl|["']@tensorflow\/[\w-]+\/dist\//;
    const outside = files.filter((f) => !f.startsWith("engine/"));
    expect(outside.filter((f) => internals.test(fs.readFileSync(path.join(src, f), "utf8")))).toEqual([]);
    const intoEngine: string[] = [];
    for (const file of outside) {
      const text = fs.readFileSync(path.join(src, file), "utf8");
      for (const [, spec] of text.matchAll(/(?:from|import\(|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec!));
        if (target.startsWith("engine/")) intoEngine.push(`${file} imports ${target}`);
      }
    }
    expect(intoEngine).toEqual([]);
    // and the engine does use them: the fence is around something
    expect(files.filter((f) => f.startsWith("engine/") && internals.test(fs.readFileSync(path.join(src, f), "utf8"))).length).toBeGreaterThan(2);
  });

  it("keeps TensorFlow.js's private parts (tensor map, tensor ids, registered variables, the recorder's hooks) to engine/internals.ts", () => {
    const privateParts = /tensorMap|nextTensorId|registeredVariables|prototype\.assign\s*=[^=]|\.(?:executeSingleOutput|executeMultipleOutputs|readSync)\s*=[^=]/;
    const read = (f: string) => fs.readFileSync(path.join(src, f), "utf8");
    expect(files.filter((f) => f !== "engine/internals.ts" && privateParts.test(read(f)))).toEqual([]);
    // and the fence is around something: each part is there
    for (const part of ["tensorMap", "nextTensorId", "registeredVariables", "prototype.assign =", "executeSingleOutput =", "readSync ="]) {
      expect(read("engine/internals.ts")).toContain(part);
    }
  });

  it("keeps what npm start and npm run check load before any kernel free of TensorFlow (they only read)", () => {
    const importsOf = (file: string): string[] => {
      const text = fs.readFileSync(path.join(src, file), "utf8");
      return [...text.matchAll(/^import (?!type )[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']/gm)].map(([, spec]) => {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec!));
        return files.includes(`${resolved}.ts`) ? `${resolved}.ts` : `${resolved}/index.ts`;
      });
    };
    const reached = (start: string, seen = new Set<string>()): Set<string> => {
      if (!seen.has(start)) {
        seen.add(start);
        importsOf(start).forEach((f) => reached(f, seen));
      }
      return seen;
    };
    for (const entry of ["notebook/parameters.ts", "notebook/submission.ts"]) expect([...reached(entry)].filter((f) => f === "core/backend.ts")).toEqual([]);
  });
});

describe("the guides", () => {
  it("stay short enough to read: README.md under 200 lines, docs/ARCHITECTURE.md (the one module map) under 150", () => {
    const lines = (file: string) => fs.readFileSync(path.join(root, file), "utf8").trimEnd().split("\n").length;
    expect(lines("README.md")).toBeLessThan(200);
    expect(lines("docs/ARCHITECTURE.md")).toBeLessThan(150);
  });
});
