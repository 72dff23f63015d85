// A package that does not declare itself an ha plugin: never imported.
throw new Error("must not be loaded")
