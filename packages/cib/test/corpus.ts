/** Locates the shared test data (../shared from the repo root) with node:fs, which Deno 2 also provides. */
import { readdirSync, readFileSync } from "node:fs"

const shared = new URL("../../../../shared/", import.meta.url)

export const corpusDir = new URL("conformance/pacemaker-scheduler/", shared)
export const benchDir = new URL("bench/cibs/", shared)

/** The `.xml` files of a directory, sorted by name. */
export const xmlFiles = (dir: URL): Array<string> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".xml"))
    .sort()

export const readText = (dir: URL, name: string): string => readFileSync(new URL(name, dir), "utf8")
