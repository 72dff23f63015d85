import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "transport",
    include: ["test/**/*.test.ts"],
    // Scenario tests step the TestClock through seconds of simulated time with real crypto between
    // steps; on a loaded 2-core CI machine that takes several seconds of real time.
    testTimeout: 60_000
  }
})
