'use strict';
// Main step: fetch (or reuse) the verified binary and run `oidc-exchange --native`.
const lib = require('./lib.js');

lib.entry(lib.main);
