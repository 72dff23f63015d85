// A broken test plugin: it throws while its module loads.
throw new Error("this plugin is broken on purpose")
