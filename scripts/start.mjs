#!/usr/bin/env node
// `npm start`: runs the worker locally with `wrangler dev`.
// - With real credentials (CC_CLIENT_ID in .dev.vars), it talks to Constant Contact.
// - Without them, it runs the built-in sandbox: a local stand-in for Constant Contact, so the
//   whole flow (sign in → Connect → consent → connected → sign-up) works offline.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDemoServer } from './demo-server.mjs'
import { root, runAsync } from './node.mjs'

export const SANDBOX = {
  ADMIN_TOKEN: 'sandbox-admin-token',
  FORMS: {
    newsletter: {
      lists: ['3a1b2c4d-0000-4000-8000-000000000001'],
      origins: ['http://localhost:8788', 'http://127.0.0.1:8788'],
      success_url: 'http://localhost:8788/thanks.html',
      custom_fields: { source: '7c0de000-0000-4000-8000-000000000001' },
    },
  },
}

/** .dev.vars as KEY → value (dotenv: KEY=value, optional quotes, # comments). */
function devVars() {
  const file = join(root, '.dev.vars')
  if (!existsSync(file)) return {}
  const vars = {}
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (m) vars[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2')
  }
  return vars
}

const port = process.env.PORT ?? '8787'
const demoPort = Number(process.env.DEMO_PORT ?? 8788)
const args = ['dev', '--port', port, '--ip', '127.0.0.1', ...process.argv.slice(2)]

const local = devVars()
if (local.CC_CLIENT_ID) {
  console.log('Using your .dev.vars (real Constant Contact).')
  // With [secrets] required in wrangler.toml, `wrangler dev` loads only the listed secrets and
  // [vars] names from .dev.vars; pass the optional ones (CC_CLIENT_SECRET, …) explicitly.
  for (const [k, val] of Object.entries(local)) {
    if (!['ADMIN_TOKEN', 'CC_CLIENT_ID', 'FORMS'].includes(k) && val)
      args.push('--var', `${k}:${val}`)
  }
} else {
  const vars = {
    CTCT_SANDBOX: '1',
    CC_CLIENT_ID: 'sandbox-client',
    ADMIN_TOKEN: SANDBOX.ADMIN_TOKEN,
    FORMS: JSON.stringify(SANDBOX.FORMS),
  }
  for (const [k, val] of Object.entries(vars)) args.push('--var', `${k}:${val}`)
  startDemoServer({ port: demoPort, relay: `http://localhost:${port}` })
  console.log(`
  ctct-relay sandbox (no .dev.vars with CC_CLIENT_ID found, so Constant Contact is simulated)
    Dashboard:    http://localhost:${port}/admin
    Admin token:  ${SANDBOX.ADMIN_TOKEN}
    Demo site:    http://localhost:${demoPort}/   (a static page using the form snippet)
`)
}
await runAsync('wrangler', args)
