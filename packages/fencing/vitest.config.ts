import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  // Real agents (python fence_dummy, namespace boots) on a busy 2-core machine take seconds, not ms.
  test: { name: "fencing", include: ["test/**/*.test.ts"], testTimeout: 60_000 }
})
