#!/usr/bin/env node
// `npm run start:deno`: runs the relay on Deno (`deno serve src/deno.ts`) on 127.0.0.1:PORT
// (default 8000), with its Deno KV in .deno-kv/ so a restart keeps the connection and the queue.
// - With real credentials (CC_CLIENT_ID in the environment or in .dev.vars), it talks to Constant
//   Contact; .dev.vars is read with the same names `wrangler dev` uses.
// - Without them, it runs the built-in sandbox with the same vars as `npm start`, so the whole
//   flow (sign in → Connect → consent → connected → sign-up) works offline.
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { startDemoServer } from './demo-server.mjs'
import { readDevVars, SANDBOX, sandboxVars } from './local-config.mjs'
import { root, runAsync } from './node.mjs'

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
  const demoPort = Number(process.env.DEMO_PORT ?? SANDBOX.DEMO_PORT)
  env = { ...env, ...sandboxVars(demoPort) }
  startDemoServer({
    port: demoPort,
    relay: `http://localhost:${port}`,
    adminToken: SANDBOX.ADMIN_TOKEN,
  })
  console.log(`
  ctct-relay sandbox on Deno (no CC_CLIENT_ID in the environment or .dev.vars, so Constant
  Contact is simulated)
    Dashboard:    http://localhost:${port}/admin
    Admin token:  ${SANDBOX.ADMIN_TOKEN}
    Demo site:    http://localhost:${demoPort}/
    State:        .deno-kv/ (delete it to start over)
`)
}

// DENO_KV_PATH may point elsewhere; the permission follows it.
const kvPathDir = dirname(resolve(root, env.DENO_KV_PATH))
await runAsync(
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
