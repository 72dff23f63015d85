export * as Explain from "./Explain.ts"
export * as Policy from "./Policy.ts"
export * as Transition from "./Transition.ts"
