/**
 * The membership channels a node's services talk on (one totally ordered broadcast each, as
 * Pacemaker's daemons each join their own CPG group). Every node of a cluster must use the same
 * numbers; they are part of the wire protocol.
 */
export const cib = 1
export const fencing = 2
export const execution = 3
