/** The Node platform layers: agent processes (process groups, stdin) and namespace node power. */
export * as NetnsPower from "./NetnsPower.ts"
export * as NodeAgentProcess from "./NodeAgentProcess.ts"
