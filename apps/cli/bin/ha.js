#!/usr/bin/env node
// The `ha` executable. It exists before the build (so `npm ci` can link it) and runs the built CLI.
import "../dist/bin.js"
