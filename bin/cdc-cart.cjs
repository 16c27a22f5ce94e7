#!/usr/bin/env node
// The `cdc-cart` command (package.json "bin"): runs cli/cdc-cart.ts through tsx, as the npm scripts do.
'use strict';
require('tsx/cjs/api').register();
require('../cli/cdc-cart.ts');
