import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  // namespaces, loop devices and real agents take seconds, not milliseconds
  test: { name: "e2e-netns", include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 }
})
