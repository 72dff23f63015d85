import { defineConfig } from "vitest/config"

// One vitest run over every workspace that has tests; each package's own vitest.config.ts is a project.
export default defineConfig({
  test: {
    projects: [
      "packages/*/vitest.config.ts",
      "plugins/*/vitest.config.ts",
      "apps/*/vitest.config.ts",
      "e2e/*/vitest.config.ts"
    ]
  }
})
