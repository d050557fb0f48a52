// What `npm start` and `npm run start:deno` share: the sandbox's configuration and .dev.vars.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './node.mjs'

/** The sandbox deployment: one form, posted from the demo site (http://localhost:8788). */
export const SANDBOX = {
  ADMIN_TOKEN: 'sandbox-admin-token',
  DEMO_PORT: 8788,
}

/** The sandbox's form profiles, for a demo site on `demoPort`. */
export function sandboxForms(demoPort = SANDBOX.DEMO_PORT) {
  return {
    newsletter: {
      lists: ['3a1b2c4d-0000-4000-8000-000000000001'],
      origins: [`http://localhost:${demoPort}`, `http://127.0.0.1:${demoPort}`],
      success_url: `http://localhost:${demoPort}/thanks.html`,
      custom_fields: { source: '7c0de000-0000-4000-8000-000000000001' },
    },
  }
}

/** The vars that put the relay in sandbox mode. */
export function sandboxVars(demoPort = SANDBOX.DEMO_PORT) {
  return {
    CTCT_SANDBOX: '1',
    CC_CLIENT_ID: 'sandbox-client',
    ADMIN_TOKEN: SANDBOX.ADMIN_TOKEN,
    FORMS: JSON.stringify(sandboxForms(demoPort)),
  }
}

/** .dev.vars as KEY → value (dotenv: KEY=value, optional quotes). */
export function readDevVars() {
  const file = join(root, '.dev.vars')
  if (!existsSync(file)) return {}
  const vars = {}
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m) vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2')
  }
  return vars
}
