/**
 * @module core/connection/oauth-routes
 * Connect, at /oauth: `/authorize` (owner only) redirects to Constant Contact's consent page (or
 * the sandbox's), `/callback` receives the code. Errors are always pages here.
 * Security: `/authorize` sets a short-lived `__Host-` cookie bound to the state, and `/callback`
 * refuses a state without it (400 `state_mismatch`) first, so a code swapped in by someone who saw
 * the owner's state never reaches the token endpoint. PKCE binds the code to the stored verifier.
 */
import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app/app-env.ts'
import { AppError, unwrap } from '../app/errors.ts'
import { ownerPageHeaders } from '../app/security-headers.ts'
import { setOwnerCookie } from '../owner/credentials.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { MessagePage } from '../ui/layout.tsx'
import {
  boundState,
  buildAuthorizeUrl,
  ccError,
  noRefreshTokenAdvice,
  pkceChallenge,
  randomToken,
  STATE_TTL_MS,
  stateMatches,
} from './oauth.ts'

/** Sent as `__Host-ctct_relay_connect`; lives as long as the state it is bound to. */
const CONNECT_COOKIE = 'ctct_relay_connect'

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
    const { state, binding } = await boundState()
    const codeVerifier = randomToken(48)
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
      codeChallenge: await pkceChallenge(codeVerifier),
      prompt: config.CC_PROMPT,
    })
    setOwnerCookie(c, CONNECT_COOKIE, binding, STATE_TTL_MS / 1000)
    return c.redirect(url, 302)
  })

  oauth.get('/callback', async (c) => {
    const { state, code, error, error_description: description, iss } = c.req.query()
    if (!state) {
      throw new AppError(
        'state_missing',
        error
          ? `Constant Contact answered ${ccError(error, description)}, and the callback carried no state. Start again from /admin.`
          : 'The callback carried no state, so it cannot be matched to a Connect you started. Start again from /admin.'
      )
    }
    if (!(await stateMatches(state, getCookie(c, CONNECT_COOKIE, 'host')))) {
      throw new AppError(
        'state_mismatch',
        'This Connect was not started in this browser (or its cookie expired). Start again from /admin, in this browser.'
      )
    }
    // The state is claimed now, whatever the outcome: its cookie has no further use.
    setOwnerCookie(c, CONNECT_COOKIE, null)
    const { refreshable, missingScope } = unwrap(
      await deps.backend().completeAuthorization({ state, code, error, description, iss })
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
          message={`Constant Contact returned no refresh token, so this connection stops working when the access token expires, and will need to be authorised again then. ${noRefreshTokenAdvice(c.var.config.CC_SCOPES)}`}
          next={{ href: '/admin', label: 'Go to /admin' }}
        />
      )
    }
    return c.redirect('/admin?notice=connected', 303)
  })

  return oauth
}
