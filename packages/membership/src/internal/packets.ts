/** Ring identifier: the representative (lowest member id) and a sequence that only grows. */
export interface RingId {
  readonly rep: number
  readonly seq: number
}

export const ringEquals = (a: RingId, b: RingId): boolean => a.rep === b.rep && a.seq === b.seq

/** Orders ring ids: by sequence, then by representative. */
export const compareRing = (a: RingId, b: RingId): number => a.seq - b.seq || a.rep - b.rep

/** Where a message re-sent during recovery originally sat in the old ring. */
export interface Origin {
  readonly ring: RingId
  readonly seq: number
  readonly sender: number
  readonly app: boolean
}

/** A regular (ordered) message. `app` is false for recovery traffic, which is never delivered. */
export interface Data {
  readonly _tag: "Data"
  readonly ring: RingId
  readonly seq: number
  readonly sender: number
  readonly app: boolean
  readonly orig: Origin | null
  readonly payload: Uint8Array
}

export const dataIsApp = (d: Data): boolean => d.app

export interface TokenPacket {
  readonly _tag: "Token"
  readonly ring: RingId
  /** Grows by one per hop, so retransmitted copies of a token are recognised and dropped. */
  readonly tokenSeq: number
  /** Highest sequence number assigned in this ring. */
  readonly seq: number
  /** All-received-up-to: every member has every message up to this one (Totem's aru). */
  readonly aru: number
  /** The node that last lowered aru (0: none). */
  readonly aruAddr: number
  /** Retransmission requests. */
  readonly rtr: ReadonlyArray<number>
  /** Flow control count: messages sent during the last rotation. */
  readonly fcc: number
  /** Set during recovery by a member that still has old-ring messages to re-send. */
  readonly retransFlag: boolean
  /** Set by the representative when recovery is complete: install the new ring. */
  readonly install: boolean
}

export interface JoinPacket {
  readonly _tag: "Join"
  readonly sender: number
  /** Highest ring sequence the sender has seen; new rings get a higher one. */
  readonly ringSeq: number
  readonly proc: ReadonlyArray<number>
  readonly fail: ReadonlyArray<number>
}

export interface CommitEntry {
  readonly oldRing: RingId
  readonly aru: number
  readonly high: number
}

export interface CommitPacket {
  readonly _tag: "Commit"
  readonly ring: RingId
  readonly members: ReadonlyArray<number>
  readonly entries: ReadonlyArray<CommitEntry | null>
}

export interface MergeDetectPacket {
  readonly _tag: "MergeDetect"
  readonly sender: number
  readonly ring: RingId
}

export interface HoldCancelPacket {
  readonly _tag: "HoldCancel"
  readonly ring: RingId
}

export type Packet = Data | TokenPacket | JoinPacket | CommitPacket | MergeDetectPacket | HoldCancelPacket
