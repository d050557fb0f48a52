#!/usr/bin/env node
// `npm run test:deno`: type-checks the Deno entry and the Deno tests (`deno check`), then runs
// them (`deno test test/deno/`), with the `deno` npm package's binary. deno.json supplies
// nodeModulesDir "manual" (bare imports resolve from node_modules) and the unstable KV and cron
// APIs. Both steps always run, so a type error does not hide test results; the exit status is
// non-zero if either failed. Extra arguments go to `deno test` (e.g. --filter refresh).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { root } from './node.mjs'

const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` }
const deno = (args) => spawnSync('deno', args, { stdio: 'inherit', cwd: root, env }).status ?? 1

const checked = deno(['check', 'src/deno.ts', 'test/deno/'])
// Read: the source tree (runtime-agnostic.test.ts) and the KV files. Write: temporary KV files.
// No net (the fake Constant Contact is an injected fetch) and no env.
const tested = deno([
  'test',
  '--no-check',
  '--allow-read',
  '--allow-write',
  ...process.argv.slice(2),
  'test/deno/',
])
if (checked !== 0) console.error('deno check failed (see above)')
process.exit(checked || tested)
