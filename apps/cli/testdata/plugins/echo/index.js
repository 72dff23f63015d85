// A working test plugin: `ha echo WORDS…` prints its words; it also contributes a validator.
import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"

const echo = Command.make("echo", { words: Args.text({ name: "WORD" }).pipe(Args.repeated) }, ({ words }) =>
  Console.log(words.join(" "))
)

// A command with a bug: `ha boom` dies, which ha must report in one line with exit code 70.
const boom = Command.make("boom", {}, () => Effect.die(new Error("kaput")))

export default {
  name: "echo",
  description: "says what it is told",
  commands: [echo, boom],
  validators: [
    {
      name: "no-dummies",
      validate: ({ cib }) =>
        Effect.succeed(
          cib.configuration.resources
            .filter((r) => r.id.startsWith("dummy"))
            .map((r) => ({ severity: "error", where: `resource ${r.id}`, message: "no dummies here" }))
        )
    }
  ]
}
