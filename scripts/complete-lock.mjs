#!/usr/bin/env node
// Adds to package-lock.json the entries of optional platform binaries (biome, deno, turbo, rollup, …
// ship one package per platform) that the registry this lock was made with does not serve. Each entry
// names its package's os/cpu/libc, so `npm ci` skips it on every other platform and fetches it from the
// public registry on its own platform, instead of refusing a lock that looks out of sync.
// Run after every `npm install`: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from "node:fs"

const file = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(file, "utf8"))
const packages = lock.packages

const platformOf = (name) => {
  const tail = name.split("/").pop()
  const os = [
    "android",
    "darwin",
    "linux",
    "freebsd",
    "openbsd",
    "openharmony",
    "win32",
    "windows",
    "sunos",
    "aix"
  ].find((candidate) => new RegExp(`(^|-)${candidate}(-|$)`).test(tail))
  const cpu = [
    ["arm64", /(^|-)arm64(-|$)/],
    ["x64", /(^|-)(x64|64)(-|$)/],
    ["ia32", /(^|-)ia32(-|$)/],
    ["arm", /(^|-)arm(-|$)/],
    ["loong64", /(^|-)loong64(-|$)/],
    ["ppc64", /(^|-)ppc64(-|$)/],
    ["riscv64", /(^|-)riscv64(-|$)/],
    ["s390x", /(^|-)s390x(-|$)/]
  ].find(([, pattern]) => pattern.test(tail))?.[0]
  const libc = /musl/.test(tail) ? "musl" : /(glibc|gnu)/.test(tail) && os === "linux" ? "glibc" : undefined
  if (os === undefined || cpu === undefined) return undefined
  return { os: [os === "windows" ? "win32" : os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) }
}

let added = 0
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ""}node_modules/${name}`
    if (packages[nested] || packages[`node_modules/${name}`]) continue
    const platform = platformOf(name)
    if (platform === undefined || !/^\d+\.\d+\.\d+/.test(version)) continue
    const base = name.split("/").pop()
    packages[`node_modules/${name}`] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`,
      optional: true,
      ...platform
    }
    added++
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1))
)
lock.packages = sorted
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`complete-lock: ${added} platform entries added`)
