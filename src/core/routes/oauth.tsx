/**
 * @module routes/oauth
 * The owner's one-time Connect, mounted at /oauth: `/authorize` (owner only) sends the owner to
 * Constant Contact's consent page (or the sandbox's), and `/callback` is where CC sends them back.
 * Errors are the app's onError's, always as a page here: a person is following redirects.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env.ts'
import { AppError, unwrap } from '../errors.ts'
import { buildAuthorizeUrl, pkceChallenge, randomToken } from '../oauth.ts'
import { ownerPageHeaders } from '../owner-middleware.ts'
import { type RelayBackend, STATE_TTL_MS } from '../service.ts'
import { MessagePage } from '../views/layout.tsx'

export interface OauthDeps {
  backend: () => RelayBackend
  now: () => number
  ownerOnly: MiddlewareHandler<AppEnv>
}

export function oauthRoutes(deps: OauthDeps): Hono<AppEnv> {
  const oauth = new Hono<AppEnv>()

  oauth.get('/authorize', ownerPageHeaders, deps.ownerOnly, async (c) => {
    const config = c.var.config
    const origin = new URL(c.req.url).origin
    const redirectUri = config.CC_REDIRECT_URI ?? `${origin}/oauth/callback`
    const state = randomToken(32)
    // Without a client secret the app is a public client: PKCE protects the code instead.
    const codeVerifier = config.CC_CLIENT_SECRET ? null : randomToken(48)
    await deps.backend().beginAuthorization({
      state,
      redirectUri,
      codeVerifier,
      expiresAt: deps.now() + STATE_TTL_MS,
    })
    const url = buildAuthorizeUrl({
      authorizeUrl: config.sandbox ? `${origin}/__sandbox/authorize` : config.CC_AUTHORIZE_URL,
      clientId: config.CC_CLIENT_ID,
      redirectUri,
      scopes: config.CC_SCOPES,
      state,
      codeChallenge: codeVerifier ? await pkceChallenge(codeVerifier) : undefined,
    })
    c.header('cache-control', 'no-store')
    return c.redirect(url, 302)
  })

  oauth.get('/callback', async (c) => {
    const { state, code, error } = c.req.query()
    if (!state) {
      throw new AppError(
        'state_missing',
        error === 'access_denied'
          ? 'Access was denied on the Constant Contact consent page, and the callback carried no state. Start again from /admin.'
          : 'The callback carried no state, so it cannot be matched to a Connect you started. Start again from /admin.'
      )
    }
    const { refreshable, missingScope } = unwrap(
      await deps.backend().completeAuthorization({ state, code, error })
    )
    if (missingScope) {
      return c.html(
        <MessagePage
          title="Connected, but without access to contacts"
          message="Constant Contact granted no contact_data scope, so sign-ups wait. Check CC_SCOPES, and allow access as a user who can manage contacts, then Reconnect."
          next={{ href: '/admin', label: 'Go to /admin' }}
        />
      )
    }
    if (!refreshable) {
      return c.html(
        <MessagePage
          title="Connected, but without a refresh token"
          message="Constant Contact returned no refresh token, so this connection stops working when the access token expires (24 hours). Add offline_access to CC_SCOPES (and make sure your CC app allows it), then Reconnect from /admin."
          next={{ href: '/admin', label: 'Go to /admin' }}
        />
      )
    }
    return c.redirect('/admin?notice=connected', 303)
  })

  return oauth
}
