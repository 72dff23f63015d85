export * as Score from "./Score.ts"
