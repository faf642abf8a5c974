'use strict';
// Loader of the optional native addon. Exports the addon, or throws an Error whose message says
// why it is absent (taken from build-status.json when the install step recorded a reason).
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, 'build', 'Release', 'untapped_native.node');
if (!fs.existsSync(file)) {
  let reason = 'the addon was never built (run: npm rebuild @untapped/native)';
  try {
    const s = JSON.parse(fs.readFileSync(path.join(__dirname, 'build-status.json'), 'utf8'));
    if (!s.ok) reason = s.reason;
  } catch {
    // no status file: keep the generic reason
  }
  throw new Error(reason);
}
module.exports = require(file);
