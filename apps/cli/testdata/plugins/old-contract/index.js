// A test plugin written for another contract version: never imported.
throw new Error("must not be loaded")
