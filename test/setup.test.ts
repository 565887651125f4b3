import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root, venvPython } from "./helpers";

const python = (code: string) => spawnSync(venvPython, ["-c", code], { encoding: "utf8" });

describe("the project's Jupyter", () => {
  it("registers the tslab kernel in .venv, pointing at the project's own tslab", () => {
    const listed = spawnSync(venvPython, ["-m", "jupyter", "kernelspec", "list", "--json"], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    const specs = JSON.parse(listed.stdout).kernelspecs as Record<string, { resource_dir: string; spec: { argv: string[]; language: string } }>;
    expect(specs["tslab"]!.spec.argv[0]).toBe(path.join(root, "node_modules", ".bin", "tslab"));
    expect(specs["tslab"]!.spec.language).toBe("typescript");
    expect(specs["tslab"]!.resource_dir.startsWith(path.join(root, ".venv"))).toBe(true);
  });

  it("has the pinned versions of requirements.txt installed", () => {
    const pins = fs.readFileSync(path.join(root, "requirements.txt"), "utf8").split("\n").filter((l) => /^[\w-]+==/.test(l));
    expect(pins.length).toBeGreaterThanOrEqual(4);
    for (const pin of pins) {
      const [name, version] = pin.split("==");
      const found = python(`import importlib.metadata as m; print(m.version("${name}"))`);
      expect(found.stdout.trim(), name).toBe(version);
    }
  });

  it("has the JupyterLab extension that renders Plotly figures", () => {
    const listed = spawnSync(venvPython, ["-m", "jupyter", "labextension", "list"], { encoding: "utf8" });
    expect(listed.stdout + listed.stderr).toMatch(/jupyterlab-plotly .*enabled.*OK/);
  });
});
