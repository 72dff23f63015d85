// A broken test plugin: its command takes the name of a built-in one.
import { Command } from "@effect/cli"
import { Console } from "effect"

export default { name: "clash", commands: [Command.make("plan", {}, () => Console.log("not the real plan"))] }
