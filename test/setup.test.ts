import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root, run, tempDir, venvPython } from "./helpers";

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

describe("pip as the set-up and the benchmark run it", () => {
  // A stand-in for python: the retry warnings urllib3 prints per package when
  // the main index is unreachable, one other warning, then the given exit status.
  const fakePython = path.join(tempDir("fake-python"), "python");
  fs.writeFileSync(fakePython, `#!/bin/sh
for p in jupyterlab nbclient plotly; do
  echo "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(...)': /simple/$p/" >&2
done
echo "WARNING: something else" >&2
exit $FAKE_STATUS
`, { mode: 0o755 });
  const runPip = (status: number) => run(process.execPath, [
    "--input-type=module", "-e",
    `import { pip } from ${JSON.stringify(path.join(root, "scripts", "pip.mjs"))};
     process.exitCode = pip(${JSON.stringify(fakePython)}, ["install", "x"]);`,
  ], { env: { ...process.env, FAKE_STATUS: String(status) } });

  it("counts the retry warnings of a successful install instead of printing each", async () => {
    const result = await runPip(0);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("WARNING: something else\n");
    expect(result.stdout).toContain("an index was unreachable (3 requests)");
  });

  it("shows everything pip printed when it fails, and passes its status on", async () => {
    const result = await runPip(3);
    expect(result.status).toBe(3);
    expect(result.stderr.match(/^WARNING: Retrying/gm)).toHaveLength(3);
    expect(result.stderr).toContain("WARNING: something else");
    expect(result.stdout).not.toContain("unreachable");
  });
});
