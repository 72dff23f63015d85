/**
 * A primitive's allocation scores as the Transition reports them (node name → score), read on demand
 * from placement's score array: a large cluster has one per primitive and node (320,000 at 32 × 10,000),
 * and most plans never look at them.
 */
export class NodeScores implements ReadonlyMap<string, number> {
  constructor(
    /** node name → index into `scores` */
    private readonly index: ReadonlyMap<string, number>,
    private readonly scores: ReadonlyArray<number>
  ) {}

  get size(): number {
    return this.index.size
  }

  get(node: string): number | undefined {
    const i = this.index.get(node)
    return i === undefined ? undefined : this.scores[i]
  }

  has(node: string): boolean {
    return this.index.has(node)
  }

  forEach(f: (score: number, node: string, map: ReadonlyMap<string, number>) => void, self?: unknown): void {
    for (const [node, i] of this.index) f.call(self, this.scores[i]!, node, this)
  }

  *entries(): MapIterator<[string, number]> {
    for (const [node, i] of this.index) yield [node, this.scores[i]!]
  }

  keys(): MapIterator<string> {
    return this.index.keys()
  }

  *values(): MapIterator<number> {
    for (const i of this.index.values()) yield this.scores[i]!
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries()
  }
}
