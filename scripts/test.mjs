#!/usr/bin/env node
// `npm test`: type-check, lint, then every suite. Runs each step with the Node >= 22 that
// scripts/node.mjs provides, because wrangler and workerd's tooling refuse older versions, and
// after the `npm ci` it runs when node_modules is missing or stale.
import { run, runBeside } from './node.mjs'

// performance.now() counts from this process's start: the time printed includes any install.
process.on('exit', (code) => {
  const seconds = (performance.now() / 1000).toFixed(1)
  console.log(`\nnpm test ${code === 0 ? 'passed' : 'FAILED'} in ${seconds} s (wall time)`)
})

run('biome', ['check', '.'])
// The type check and the Deno suite run beside vitest: each is mostly one thread, and vitest
// leaves a core idle for much of its run. Their output follows vitest's.
const typeCheck = runBeside('tsc', ['-p', 'tsconfig.json'])
// The same scenarios on Deno (Deno KV store, Deno.cron), plus the runtime-agnostic core check.
const deno = runBeside('node', ['scripts/test-deno.mjs'])
run('node', ['--test', 'scripts/setup.test.ts', 'scripts/dependencies.test.mjs'])
const vitest = run('vitest', ['run'], { exitOnFailure: false }).status
const statuses = [vitest, await typeCheck.finish(), await deno.finish()]
if (statuses.some((status) => status !== 0)) {
  console.error(
    `failed: ${['vitest', 'tsc', 'deno'].filter((_, i) => statuses[i] !== 0).join(', ')}`
  )
  process.exit(1)
}
