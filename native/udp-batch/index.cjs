"use strict";
// Loads the compiled addon. A machine that could not build it (no compiler at install time) gets
// { loadError } instead of a throw, so dcnet can say why and serve UDP through node:dgram.
const { join } = require("node:path");
try {
  module.exports = require(join(__dirname, "build", "Release", "udp_batch.node"));
} catch (err) {
  module.exports = { loadError: `${err && err.message ? err.message : err}` };
}
