/**
 * @module sandbox/routes
 * The sandbox's pages at /__sandbox (CTCT_SANDBOX=1, loopback host only): `/authorize` stands in
 * for Constant Contact's consent page, `/` and `/lists/…` delete and restore the stand-in's lists.
 * Without the sandbox every route is 404 `not_found` (after the owner check, where there is one).
 */
import type { MiddlewareHandler } from 'hono'
import { csrf } from 'hono/csrf'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../core/app/app-env.ts'
import { AppError } from '../core/app/errors.ts'
import { ownerPageHeaders } from '../core/app/security-headers.ts'
import { isLoopbackHost } from '../core/lib/url.ts'
import { formField, ownerForm } from '../core/owner/owner-body.ts'
import type { RelayBackend } from '../core/relay/backend.ts'
import { issueSandboxCode } from './model.ts'
import { SandboxConsentPage, SandboxPage } from './pages.tsx'

export interface SandboxDeps {
  backend: () => RelayBackend
  now: () => number
  ownerOnly: MiddlewareHandler<AppEnv>
}

export function sandboxRoutes(deps: SandboxDeps): Hono<AppEnv> {
  const { ownerOnly } = deps
  const sandbox = new Hono<AppEnv>()
  sandbox.use(ownerPageHeaders)
  sandbox.use(csrf())
  sandbox.use(ownerForm)

  sandbox.get('/authorize', (c) => {
    if (!c.var.config.sandbox) throw new AppError('not_found', 'Not found')
    return c.html(<SandboxConsentPage query={c.req.query()} />)
  })

  sandbox.post('/authorize', async (c) => {
    if (!c.var.config.sandbox) throw new AppError('not_found', 'Not found')
    const field = (k: string) => formField(c, k)
    const target = new URL(field('redirect_uri'))
    if (!isLoopbackHost(target.hostname))
      throw new AppError('sandbox_forbidden', 'The sandbox only redirects to a local host.')
    target.searchParams.set('state', field('state'))
    if (field('decision') === 'allow') {
      const code = await issueSandboxCode({
        clientId: field('client_id'),
        redirectUri: field('redirect_uri'),
        codeChallenge: field('code_challenge') || null,
        now: deps.now(),
      })
      target.searchParams.set('code', code)
    } else {
      target.searchParams.set('error', 'access_denied')
    }
    return c.redirect(target.toString(), 302)
  })

  sandbox.get('/', ownerOnly, async (c) => {
    const view = await deps.backend().sandbox()
    if (!view) throw new AppError('not_found', 'Not found')
    return c.html(<SandboxPage view={view} />)
  })

  sandbox.post('/lists/:id/:action{delete|restore}', ownerOnly, async (c) => {
    const id = c.req.param('id')
    const op = c.req.param('action') === 'delete' ? { deleteList: id } : { restoreList: id }
    if (!(await deps.backend().sandbox(op))) throw new AppError('not_found', 'Not found')
    return c.redirect('/__sandbox', 303)
  })

  return sandbox
}
