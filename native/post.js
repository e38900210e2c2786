'use strict';
// Post step: re-verify the binary main ran and run `oidc-exchange --native --post`.
const lib = require('./lib.js');

lib.entry(lib.post);
