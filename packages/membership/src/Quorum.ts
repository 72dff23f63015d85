/**
 * Quorum as Corosync's votequorum computes it (votequorum(5)), as a pure state machine: view changes
 * and ticks in, a quorum status out. Every member of a view computes the same status from the same
 * view, so no quorum messages are exchanged (expected_votes is configured identically on all nodes).
 */
import type { NodeId } from "./Totem.ts"

export interface Options {
  /** Votes of each configured node (the nodelist); nodes not listed have 1 vote. */
  readonly nodes: ReadonlyArray<{ readonly nodeId: NodeId; readonly votes?: number }>
  /** Overrides the sum of the nodelist's votes (votequorum's quorum.expected_votes). */
  readonly expectedVotes?: number | undefined
  /** Two-node cluster: quorate with 1 of 2 votes; implies waitForAll unless that is set to false. */
  readonly twoNode: boolean
  /** Not quorate at start until every configured node has been in one view at least once. */
  readonly waitForAll?: boolean | undefined
  /** After `lastManStandingWindow` ms in a smaller stable view, lower expected votes to that view's. */
  readonly lastManStanding: boolean
  readonly lastManStandingWindow: number
  /** On an exact 50% split, the half holding the tie-breaker node stays quorate. */
  readonly autoTieBreaker: boolean
  /** `lowest`, `highest` or a list of node ids in order of preference. */
  readonly autoTieBreakerNode: "lowest" | "highest" | ReadonlyArray<NodeId>
}

export interface Status {
  readonly quorate: boolean
  readonly members: ReadonlyArray<NodeId>
  /** Votes of the current members. */
  readonly totalVotes: number
  readonly expectedVotes: number
  /** Votes needed for quorum. */
  readonly quorum: number
  /** True while waitForAll still holds quorum back. */
  readonly waitingForAll: boolean
}

export type Input =
  | { readonly _tag: "View"; readonly members: ReadonlyArray<NodeId>; readonly now: number }
  | { readonly _tag: "Tick"; readonly now: number }

export class Machine {
  private readonly votes: ReadonlyMap<NodeId, number>
  private readonly configuredExpected: number
  private readonly waitForAll: boolean
  private expected: number
  private waitingForAll: boolean
  private members: ReadonlyArray<NodeId> = []
  private previousMembers: ReadonlyArray<NodeId> = []
  /** When the current view was installed, for last_man_standing's window; null once applied. */
  private stableSince: number | null = null
  status: Status

  constructor(readonly options: Options) {
    this.votes = new Map(options.nodes.map((n) => [n.nodeId, n.votes ?? 1]))
    this.configuredExpected =
      options.expectedVotes ?? options.nodes.reduce((sum, n) => sum + (n.votes ?? 1), 0)
    this.expected = this.configuredExpected
    this.waitForAll = options.waitForAll ?? (options.twoNode && !options.autoTieBreaker)
    this.waitingForAll = this.waitForAll
    this.status = this.compute()
  }

  /** Feeds a view change or the passing of time; returns the new status when it changed. */
  step(input: Input): Status | null {
    if (input._tag === "View") {
      this.previousMembers = this.members
      this.members = [...input.members].sort((a, b) => a - b)
      const total = this.totalVotes()
      // Seeing more votes than expected raises expected votes (votequorum never lets them fall below).
      if (total > this.expected) this.expected = total
      if (this.waitingForAll && total >= this.configuredExpected) this.waitingForAll = false
      this.stableSince = input.now
    } else if (
      this.options.lastManStanding &&
      this.stableSince !== null &&
      input.now - this.stableSince >= this.options.lastManStandingWindow
    ) {
      this.stableSince = null
      const total = this.totalVotes()
      // LMS only lowers expected votes while quorate, and not below 2 nodes' worth unless ATB breaks ties.
      const floor = this.options.autoTieBreaker ? 1 : 2
      if (this.status.quorate && total < this.expected && this.members.length >= floor) this.expected = total
    } else return null
    const next = this.compute()
    const changed = !sameStatus(next, this.status)
    this.status = next
    return changed ? next : null
  }

  private totalVotes(): number {
    return this.members.reduce((sum, n) => sum + (this.votes.get(n) ?? 1), 0)
  }

  private compute(): Status {
    const totalVotes = this.totalVotes()
    const twoNode = this.options.twoNode && this.expected === 2
    const quorum = twoNode ? 1 : Math.floor(Math.max(this.expected, totalVotes) / 2) + 1
    let quorate = totalVotes >= quorum
    if (!quorate && this.options.autoTieBreaker && totalVotes * 2 === this.expected) {
      quorate = this.holdsTieBreaker()
    }
    if (this.waitingForAll) quorate = false
    return {
      quorate,
      members: this.members,
      totalVotes,
      expectedVotes: this.expected,
      quorum,
      waitingForAll: this.waitingForAll
    }
  }

  /**
   * The tie-breaker is chosen among the nodes of the view before the split and of this one, which both
   * halves of a split know alike: so exactly one half holds it (votequorum's auto_tie_breaker_node).
   */
  private holdsTieBreaker(): boolean {
    const known = [...new Set([...this.previousMembers, ...this.members])].sort((a, b) => a - b)
    const rule = this.options.autoTieBreakerNode
    const breaker =
      rule === "lowest" ? known[0] : rule === "highest" ? known.at(-1) : rule.find((n) => known.includes(n))
    return breaker !== undefined && this.members.includes(breaker)
  }
}

const sameStatus = (a: Status, b: Status) =>
  a.quorate === b.quorate &&
  a.totalVotes === b.totalVotes &&
  a.expectedVotes === b.expectedVotes &&
  a.quorum === b.quorum &&
  a.waitingForAll === b.waitingForAll &&
  a.members.length === b.members.length &&
  a.members.every((m, i) => m === b.members[i])
