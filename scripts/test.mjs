#!/usr/bin/env node
// `npm test`: type-check, lint, then every suite. Runs each step with the Node >= 22 that
// scripts/node.mjs provides, because wrangler and workerd's tooling refuse older versions, and
// after the `npm ci` it runs when node_modules is missing or stale.
import { run } from './node.mjs'

// performance.now() counts from this process's start: the time printed includes any install.
process.on('exit', (code) => {
  const seconds = (performance.now() / 1000).toFixed(1)
  console.log(`\nnpm test ${code === 0 ? 'passed' : 'FAILED'} in ${seconds} s (wall time)`)
})

run('tsc', ['-p', 'tsconfig.json'])
run('biome', ['check', '.'])
run('node', ['--test', 'scripts/setup.test.ts', 'scripts/dependencies.test.mjs'])
run('vitest', ['run'])
// The same scenarios on Deno (Deno KV store, Deno.cron), plus the runtime-agnostic core check.
run('node', ['scripts/test-deno.mjs'])
