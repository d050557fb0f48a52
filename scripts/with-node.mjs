#!/usr/bin/env node
// Runs a command with Node >= 22 first on PATH (see node.mjs): `node scripts/with-node.mjs wrangler …`
import { run } from './node.mjs'

const [cmd, ...args] = process.argv.slice(2)
if (!cmd) {
  console.error('usage: node scripts/with-node.mjs <command> [args…]')
  process.exit(2)
}
run(cmd, args)
