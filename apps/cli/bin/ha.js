#!/usr/bin/env node
// The `ha` executable. It exists before the build (so `npm ci` can link it) and runs the built CLI,
// bundled into one module (scripts/bundle.mjs) so that it starts quickly.
import "../dist/ha.js"
