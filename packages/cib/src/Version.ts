/**
 * CIB versions and content digests.
 *
 * A CIB's version is (admin_epoch, epoch, num_updates). Pacemaker compares versions
 * lexicographically in that order: the CIB with the greater version wins when two copies meet.
 * A configuration change increments `epoch` and resets `num_updates`; a status change increments
 * `num_updates`; `admin_epoch` is only raised by administrators to force a copy to win.
 */
import type { Order } from "effect"
import type { Cib, Configuration } from "./Cib.ts"
import { Version } from "./Cib.ts"
import { canonicalJson, canonicalSummary } from "./internal/canonical.ts"
import { sha256OfText } from "./internal/sha256.ts"

export { Version }

/** -1, 0 or 1 as `a` is older than, the same as or newer than `b`. */
export const compare = (a: Version, b: Version): -1 | 0 | 1 => {
  if (a.adminEpoch !== b.adminEpoch) return a.adminEpoch < b.adminEpoch ? -1 : 1
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1
  if (a.numUpdates !== b.numUpdates) return a.numUpdates < b.numUpdates ? -1 : 1
  return 0
}

/** Pacemaker's version order, for `Array.sort`, `Order.max` and friends. */
export const order: Order.Order<Version> = compare

export const equals = (a: Version, b: Version): boolean => compare(a, b) === 0

/** The newer of two versions (the first on a tie). */
export const max = (a: Version, b: Version): Version => (compare(b, a) > 0 ? b : a)

/** "admin_epoch.epoch.num_updates", as Pacemaker's tools print a CIB version. */
export const format = (v: Version): string => `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`

/** The version after a configuration change: epoch + 1, num_updates reset to 0. */
export const bumpEpoch = (v: Version): Version => ({
  adminEpoch: v.adminEpoch,
  epoch: v.epoch + 1,
  numUpdates: 0
})

/** The version after a status change: num_updates + 1. */
export const bumpNumUpdates = (v: Version): Version => ({ ...v, numUpdates: v.numUpdates + 1 })

/** The version after an administrator forces a copy to win: admin_epoch + 1, the rest reset. */
export const bumpAdminEpoch = (v: Version): Version => ({
  adminEpoch: v.adminEpoch + 1,
  epoch: 0,
  numUpdates: 0
})

/** `cib` with its configuration replaced and the version bumped as a configuration change. */
export const withConfiguration = (cib: Cib, configuration: Configuration): Cib => ({
  ...cib,
  version: bumpEpoch(cib.version),
  configuration
})

/** `cib` with its status replaced and the version bumped as a status change. */
export const withStatus = (cib: Cib, status: Cib["status"]): Cib => ({
  ...cib,
  version: bumpNumUpdates(cib.version),
  status
})

/**
 * SHA-256 (hex) of everything in the CIB but its version: two CIBs with the same content have the
 * same digest whatever their counters, field order or object identities (see `internal/canonical.ts`
 * for how unchanged parts shared with an earlier CIB cost nothing to digest again).
 */
export const digest = (cib: Cib): string => {
  // the store asks for the same CIB's digest in every diff and patch
  const known = digests.get(cib)
  if (known !== undefined) return known
  const { version: _version, ...content } = cib
  const computed = sha256OfText(canonicalSummary(content))
  digests.set(cib, computed)
  return computed
}

const digests = new WeakMap<Cib, string>()

/** SHA-256 (hex) of the canonical serialization of a configuration alone. */
export const configurationDigest = (configuration: Configuration): string =>
  sha256OfText(canonicalJson(configuration))
