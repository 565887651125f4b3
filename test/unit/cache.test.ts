import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cacheRoot } from "../../src/core/cache";
import { defaultDownloadCache } from "../../src/data/sources";

describe("cacheRoot, the one cache folder of set-up and the data loader", () => {
  it("is DEEPCONV_CACHE_DIR, else deep-convolution in XDG_CACHE_HOME, else in ~/.cache", () => {
    expect(cacheRoot({ DEEPCONV_CACHE_DIR: "/data/cache", XDG_CACHE_HOME: "/xdg" })).toBe("/data/cache");
    expect(cacheRoot({ XDG_CACHE_HOME: "/xdg" })).toBe(path.join("/xdg", "deep-convolution"));
    expect(cacheRoot({})).toBe(path.join(os.homedir(), ".cache", "deep-convolution"));
    expect(defaultDownloadCache("fashion-mnist")).toBe(path.join(cacheRoot(), "fashion-mnist"));
  });
});
