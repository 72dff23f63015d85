export * as Cib from "./Cib.ts"
export * as Duration from "./Duration.ts"
export * as Errors from "./Errors.ts"
export * as Score from "./Score.ts"
