import { defineConfig } from "vitest/config";

// The fast tier (npm run test:unit): pure and tensor-level tests, with no .venv,
// browser, kernel or data set. npm test runs these and everything else.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
