#!/usr/bin/env node
// `npm run start:deno`: runs the relay on Deno (`deno serve src/deno.ts`) on 127.0.0.1:PORT
// (default 8000), with its Deno KV in .deno-kv/ so a restart keeps the connection and the queue.
// - With real credentials (CC_CLIENT_ID in the environment or in .dev.vars), it talks to Constant
//   Contact; .dev.vars is read with the same names `wrangler dev` uses.
// - Without them, it runs the built-in sandbox with the same vars as `npm start`, so the whole
//   flow (sign in → Connect → consent → connected → sign-up) works offline.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { root, run } from './node.mjs'

// The same as SANDBOX in scripts/start.mjs (not imported: that script runs wrangler on import).
const SANDBOX = {
  ADMIN_TOKEN: 'sandbox-admin-token',
  FORMS: {
    newsletter: {
      lists: ['3a1b2c4d-0000-4000-8000-000000000001'],
      origins: ['http://localhost:8788', 'http://127.0.0.1:8788'],
      custom_fields: { source: '7c0de000-0000-4000-8000-000000000001' },
    },
  },
}

/** KEY=value lines, values optionally quoted, as in .dev.vars. */
function readDevVars() {
  const file = join(root, '.dev.vars')
  if (!existsSync(file)) return {}
  const vars = {}
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m) vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2')
  }
  return vars
}

const port = process.env.PORT ?? '8000'
const host = process.env.HOST ?? '127.0.0.1'
const kvDir = join(root, '.deno-kv')
mkdirSync(kvDir, { recursive: true })

const devVars = readDevVars()
// Real mode: the shell's variables win over .dev.vars, as they would for any process.
let env = { DENO_KV_PATH: join(kvDir, 'relay.sqlite3'), ...devVars, ...process.env }
if (env.CC_CLIENT_ID) {
  console.log('Using CC_CLIENT_ID from your environment / .dev.vars (real Constant Contact).')
} else {
  // Sandbox mode: these win, as `--var` does for `npm start`.
  env = {
    ...env,
    CTCT_SANDBOX: '1',
    CC_CLIENT_ID: 'sandbox-client',
    ADMIN_TOKEN: SANDBOX.ADMIN_TOKEN,
    FORMS: JSON.stringify(SANDBOX.FORMS),
  }
  console.log(`
  ctct-relay sandbox on Deno (no CC_CLIENT_ID in the environment or .dev.vars, so Constant
  Contact is simulated)
    Dashboard:    http://localhost:${port}/admin
    Admin token:  ${SANDBOX.ADMIN_TOKEN}
    State:        .deno-kv/ (delete it to start over)
`)
}

// DENO_KV_PATH may point elsewhere; the permission follows it.
const kvPathDir = dirname(resolve(root, env.DENO_KV_PATH))
run(
  'deno',
  [
    'serve',
    '--port',
    port,
    '--host',
    host,
    // Net: listening and Constant Contact. Env: the configuration. Read/write: the KV file.
    '--allow-net',
    '--allow-env',
    `--allow-read=${root},${kvPathDir}`,
    `--allow-write=${kvPathDir}`,
    ...process.argv.slice(2),
    'src/deno.ts',
  ],
  { env }
)
