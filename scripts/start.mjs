#!/usr/bin/env node
// `npm start`: runs the worker locally with `wrangler dev`.
// - With real credentials (CC_CLIENT_ID in .dev.vars), it talks to Constant Contact.
// - Without them, it runs the built-in sandbox: a local stand-in for Constant Contact, so the
//   whole flow (sign in → Connect → consent → connected → sign-up) works offline.
import { startDemoServer } from './demo-server.mjs'
import { readDevVars, SANDBOX, sandboxVars } from './local-config.mjs'
import { runAsync } from './node.mjs'

const port = process.env.PORT ?? '8787'
const demoPort = Number(process.env.DEMO_PORT ?? SANDBOX.DEMO_PORT)
const args = ['dev', '--port', port, '--ip', '127.0.0.1', ...process.argv.slice(2)]

const local = readDevVars()
if (local.CC_CLIENT_ID) {
  console.log('Using your .dev.vars (real Constant Contact).')
  // With [secrets] required in wrangler.toml, `wrangler dev` loads only the listed secrets and
  // [vars] names from .dev.vars; pass the optional ones (CC_CLIENT_SECRET, FORMS, …) explicitly.
  for (const [k, val] of Object.entries(local)) {
    if (!['ADMIN_TOKEN', 'CC_CLIENT_ID'].includes(k) && val) args.push('--var', `${k}:${val}`)
  }
} else {
  // The local entry: the deployed one (wrangler.toml's main) plus the sandbox, which it lacks.
  args.splice(1, 0, 'src/worker-sandbox.ts')
  for (const [k, val] of Object.entries(sandboxVars(demoPort))) args.push('--var', `${k}:${val}`)
  startDemoServer({
    port: demoPort,
    relay: `http://localhost:${port}`,
    adminToken: SANDBOX.ADMIN_TOKEN,
  })
  console.log(`
  ctct-relay sandbox (no .dev.vars with CC_CLIENT_ID found, so Constant Contact is simulated)
    Dashboard:    http://localhost:${port}/admin
    Admin token:  ${SANDBOX.ADMIN_TOKEN}
    Demo site:    http://localhost:${demoPort}/   (a static page using the form snippet)
`)
}
await runAsync('wrangler', args)
