/**
 * The controller's view of the membership (its `Membership` seam) from @ha/membership: Totem's
 * agreed views with votequorum's quorum, members named as the CIB names them.
 */
import { Membership as ControllerMembership } from "@ha/controller"
import { Membership } from "@ha/membership"
import { Effect, Layer, Option, Stream } from "effect"
import type { ClusterNodes } from "./ClusterNodes.ts"

export interface Options {
  readonly nodes: ClusterNodes
  /** The controller version every node runs (a mixed-version cluster is not supported yet). */
  readonly version: string
}

const viewOf = (options: Options, view: Membership.View, quorate: boolean): ControllerMembership.View => ({
  ringId: view.id.seq,
  quorate,
  members: [...view.members]
    .sort((a, b) => a - b)
    .map((id) =>
      ControllerMembership.member(options.nodes.nameOf(id), String(id), {
        priority: options.nodes.all.find((n) => n.id === id)?.priority ?? 0,
        version: options.version
      })
    )
})

/** Before the first view: alone and without quorum (the controller waits, no DC is elected). */
const noView: ControllerMembership.View = { ringId: 0, members: [], quorate: false }

export const make = (membership: Membership.Membership["Type"], options: Options) =>
  ControllerMembership.Membership.of({
    current: Effect.map(Effect.all([membership.currentView, membership.currentQuorum]), ([view, quorum]) =>
      Option.match(view, { onNone: () => noView, onSome: (v) => viewOf(options, v, quorum.quorate) })
    ),
    views: membership.events.pipe(
      Stream.filterMap((event) =>
        event._tag === "ViewInstalled"
          ? Option.some(viewOf(options, event.view, event.quorum.quorate))
          : Option.none()
      )
    )
  })

export const layer = (options: Options) =>
  Layer.effect(
    ControllerMembership.Membership,
    Effect.map(Membership.Membership, (membership) => make(membership, options))
  )
