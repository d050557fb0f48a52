#!/usr/bin/env node
// `npm run test:busy`: `npm test` on a machine kept busy. One CPU-bound process per core spins
// beside the suite (each bounded: it exits after BUSY_MAX_MINUTES, 20 by default, or when the
// suite ends), so every suite must pass while starved of CPU: no assertion may depend on how
// fast the code runs. Exits with the suite's status.
import { spawn } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { root } from './node.mjs'

const maxMs = Number(process.env.BUSY_MAX_MINUTES ?? 20) * 60_000
const burner = `const end = Date.now() + ${maxMs}; let x = 0; while (Date.now() < end) x = (x * 31 + 7) % 1000003`
const burners = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ['-e', burner], { stdio: 'ignore' })
)
console.log(`test:busy: ${burners.length} CPU-bound processes running beside npm test`)
const stop = () => {
  for (const b of burners) b.kill('SIGKILL')
}
process.on('exit', stop)
process.on('SIGINT', () => process.exit(130))

const suite = spawn(process.execPath, [join(root, 'scripts', 'test.mjs')], {
  cwd: root,
  stdio: 'inherit',
})
suite.on('exit', (code) => {
  stop()
  process.exit(code ?? 1)
})
