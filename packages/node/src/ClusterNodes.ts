/**
 * The cluster's nodes as configured: the names operators and the CIB use and the numeric ids the
 * membership uses (`<node id="2" uname="beta">`).
 */
export interface ClusterNode {
  readonly name: string
  /** The membership's node id (corosync's nodeid). */
  readonly id: number
  /** Election priority, higher wins (default 0). */
  readonly priority?: number
}

export interface ClusterNodes {
  readonly all: ReadonlyArray<ClusterNode>
  readonly nameOf: (id: number) => string
  readonly idOf: (name: string) => number | undefined
}

export const make = (nodes: ReadonlyArray<ClusterNode>): ClusterNodes => {
  const names = new Map(nodes.map((node) => [node.id, node.name]))
  const ids = new Map(nodes.map((node) => [node.name, node.id]))
  return {
    all: nodes,
    // a node that is not configured still shows up by its id (it is refused by the CIB, not hidden)
    nameOf: (id) => names.get(id) ?? `node${id}`,
    idOf: (name) => ids.get(name)
  }
}
