#!/usr/bin/env node
// `npm run check`: the static checks CI runs, each with the Node >= 22 that scripts/node.mjs
// provides (wrangler refuses older versions). Stops at the first failure with its exit status.
//   1. tsc -p tsconfig.json       the worker, the core and the workerd tests
//   2. tsc on scripts/*.ts        the setup script and its node:test tests (run by Node's type
//                                 stripping, so also checked for erasable syntax only)
//   3. biome check .              lint and format (biome.json is the one toolchain config)
//   4. wrangler deploy --dry-run  bundles the worker exactly as a deploy would, offline
//   5. wrangler types --check     worker-configuration.d.ts matches wrangler.toml
//                                 (regenerate with `npm run cf-typegen`)
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { root, run } from './node.mjs'

const step = (title) => console.log(`\n▸ ${title}`)

step('tsc -p tsconfig.json')
run('tsc', ['-p', 'tsconfig.json'])

step('tsc (scripts)')
run('tsc', [
  '--noEmit',
  '--strict',
  '--target',
  'es2024',
  '--module',
  'nodenext',
  '--moduleResolution',
  'nodenext',
  '--allowImportingTsExtensions',
  '--erasableSyntaxOnly',
  '--verbatimModuleSyntax',
  '--skipLibCheck',
  '--types',
  'node',
  'scripts/setup.ts',
  'scripts/setup-lib.ts',
  'scripts/setup.test.ts',
])

step('biome check .')
run('biome', ['check', '.'])

// `--env=` picks the top-level environment explicitly (wrangler.toml also defines [env.staging]).
step('wrangler deploy --dry-run')
run('wrangler', ['deploy', '--dry-run', '--outdir', 'dist', '--env='])

// Sizes of what visitors and Cloudflare load (budgets: 100 KiB and 2 KiB gzipped; enforced by
// `npm run bench` and, for embed.js, by test/workers/dashboard.test.ts).
const gz = (bytes) => `${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzipped`
const embedSource = readFileSync(join(root, 'src/embed/embed.ts'), 'utf8')
const embed = /export const EMBED_JS = `([\s\S]*)`\s*$/.exec(embedSource)?.[1] ?? ''
console.log(`  worker bundle: ${gz(readFileSync(join(root, 'dist/worker.js')))}`)
console.log(`  embed.js:      ${gz(Buffer.from(embed))}`)

step('wrangler types --check')
run('wrangler', ['types', '--include-runtime=false', '--strict-vars=false', '--check'])

console.log('\n✓ npm run check passed')
