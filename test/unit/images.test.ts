import { describe, expect, it } from "vitest";
import { describeFigure, type ImageTrace, type TileHeatmapTrace } from "../../src/report/charts";
import { tileGrid } from "../../src/report/images";
import { typedValues } from "../helpers";

describe("tileGrid", () => {
  // two 2×2 images of values and one of colours, two to a row, 10 px per pixel
  const tiles = [
    { values: [0, 0.5, 1, 0.25], caption: ["first"] },
    { values: [1, 1, 1, 1], caption: ["second", "two lines"] },
    { colours: [[255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0]] as Array<[number, number, number]>, caption: ["third"] },
  ];
  const figure = tileGrid(tiles, { rows: 2, cols: 2, columns: 2, scale: 10, palette: { grey: 1 }, heading: "a heading" }, "three images");

  it("puts each image on axes of its own, rows from the top, values grey in 256 steps up to the palette's top", () => {
    expect(figure.data.map((t) => [t.type, t.xaxis, t.yaxis])).toEqual([
      ["heatmap", "x", "y"], ["heatmap", "x2", "y2"], ["image", "x3", "y3"],
    ]);
    const first = figure.data[0] as TileHeatmapTrace;
    // one byte per pixel, stored as one base64 string: 0.5 of the top is step 128 of 255
    expect([first.z.dtype, first.z.shape, typedValues(first.z)]).toEqual(["u1", "2,2", [[0, 128], [255, 64]]]);
    expect([first.zmin, first.zmax, first.colorscale]).toEqual([0, 255, [[0, "rgb(0,0,0)"], [1, "rgb(255,255,255)"]]]);
    const colours = (figure.data[2] as ImageTrace).z;
    expect([colours.shape, typedValues(colours)]).toEqual(["2,2,3", [[255, 0, 0, 0, 255, 0], [0, 0, 255, 0, 0, 0]]]);
    const { layout } = figure;
    expect(layout.yaxis.range).toEqual([1.5, -0.5]); // row 0 at the top, as the image reads
    expect(layout.xaxis.range).toEqual([-0.5, 1.5]);
    expect([layout.xaxis.visible, layout.yaxis3?.anchor, layout.xaxis3?.anchor]).toEqual([false, "x3", "y3"]);
  });

  it("sizes every image at `scale` pixels a pixel, each tile wide enough for its caption, in rows of `columns`", () => {
    const { layout } = figure;
    // tile width: the widest caption, "two lines" (9 characters at 7 px), plus 6 px each side
    const tileW = 9 * 7 + 12;
    expect(layout.width).toBe(2 * tileW);
    const plotH = layout.height - layout.margin!["t"]!;
    expect(layout.margin!["t"]).toBe(36); // room for the heading
    const px = (domain: [number, number] | undefined, size: number) => domain!.map((d) => Math.round(d * size));
    // 20 px images, centred in their tiles; the third starts the second row
    expect(px(layout.xaxis.domain, layout.width)).toEqual([Math.floor((tileW - 20) / 2), Math.floor((tileW - 20) / 2) + 20]);
    expect(px(layout.xaxis2?.domain, layout.width)[0]).toBe(tileW + Math.floor((tileW - 20) / 2));
    expect(px(layout.xaxis3?.domain, layout.width)).toEqual(px(layout.xaxis.domain, layout.width));
    const tileH = 20 + 2 * 15 + 12; // two caption lines at most
    expect(plotH).toBe(2 * tileH);
    expect(px(layout.yaxis.domain, plotH)).toEqual([plotH - 6 - 20, plotH - 6]);
    expect(px(layout.yaxis3?.domain, plotH)).toEqual([plotH - tileH - 6 - 20, plotH - tileH - 6]);
  });

  it("captions each image below it, headings the grid, and describes it in words", () => {
    const { annotations, title } = figure.layout;
    expect(annotations!.map((a) => a.text)).toEqual(["first", "second<br>two lines", "third"]);
    expect(annotations![1]!.x).toBeCloseTo((figure.layout.xaxis2!.domain![0] + figure.layout.xaxis2!.domain![1]) / 2);
    expect(annotations![2]!.y).toBeLessThan(figure.layout.yaxis3!.domain![0]);
    expect(title.text).toBe("a heading");
    expect(describeFigure(figure)).toBe("three images");
  });

  it("colours values blue through grey to red around zero with a diverging palette", () => {
    const grid = tileGrid([{ values: [-2, 0, 0.5, 1], caption: [] }], { rows: 2, cols: 2, palette: { diverging: 1 } }, "w");
    const trace = grid.data[0] as TileHeatmapTrace;
    expect([trace.zmin, trace.zmax]).toEqual([-1, 1]);
    expect(typedValues(trace.z)).toEqual([[-2, 0], [0.5, 1]]); // the weights themselves, past the scale's ends too
    expect(trace.colorscale.map(([at]) => at)).toEqual([0, 0.5, 1]);
    expect(trace.colorscale[0]![1]).toBe("rgb(33,102,172)");
    expect(trace.colorscale[2]![1]).toBe("rgb(178,24,43)");
  });

  it("explains bad input", () => {
    expect(() => tileGrid([], { rows: 2, cols: 2 }, "none")).toThrow(/no images/);
    expect(() => tileGrid([{ values: [1, 2, 3], caption: [] }], { rows: 2, cols: 2 }, "bad")).toThrow(
      /3 values, expected 2×2/,
    );
  });
});
