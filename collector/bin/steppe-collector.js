#!/usr/bin/env node
// Entry point of the `steppe-collector` command; the CLI lives in dist/cli/main.js
// (built by `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
