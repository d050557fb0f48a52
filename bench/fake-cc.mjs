/**
 * A fake Constant Contact on 127.0.0.1 for the benchmarks, run as its own process (so the load
 * generator never delays its timers): `node bench/fake-cc.mjs` prints `{"port":N}` once listening.
 *
 * - Every answer waits a fixed service time (`serviceMs`).
 * - GET  /oauth2/authorize             302 back to redirect_uri with a code (remembers the PKCE challenge)
 * - POST /oauth2/token                 authorization_code (PKCE checked) and refresh_token grants;
 *                                      HS256 JWT access tokens (jose) with `ttlSeconds`; rotating,
 *                                      single-use refresh tokens.
 * - POST /v3/contacts/sign_up_form     checks the JWT (expired → 401), records the arrival time, and
 *                                      answers 429 {"error_key":"throttled"} past `perSecond` in any
 *                                      1-second window (0 = no limit), like CC.
 * - GET  /v3/account/summary
 * - /__bench/config (POST JSON), /__bench/stats (GET), /__bench/reset (POST): the bench's controls.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { jwtVerify, SignJWT } from 'jose'

const KEY = new TextEncoder().encode('bench-fake-cc-signing-key')
const now = () => performance.timeOrigin + performance.now()

const settings = { serviceMs: 20, perSecond: 4, ttlSeconds: 86_400 }
let stats = freshStats()
/** code → { challenge, redirectUri } */
const codes = new Map()
const validRefresh = new Set()
let issued = 0

function freshStats() {
  return {
    /** Every token-endpoint call: { at, grant, status }. */
    tokenCalls: [],
    /** Every sign_up_form arrival: { at, status, email }. */
    signups: [],
    /** Only the accepted ones, by email (CC's upsert). */
    contacts: new Set(),
    summaryCalls: 0,
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

async function issueTokens() {
  issued++
  const iat = Math.floor(Date.now() / 1000)
  const access = await new SignJWT({ cid: 'bench' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-account')
    .setIssuedAt(iat)
    .setExpirationTime(iat + settings.ttlSeconds)
    .setJti(`a${issued}`)
    .sign(KEY)
  const refresh = `refresh-${issued}-${randomUUID()}`
  validRefresh.add(refresh)
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: settings.ttlSeconds,
    scope: 'account_read contact_data offline_access',
    refresh_token: refresh,
  }
}

const invalidGrant = (description) => ({ error: 'invalid_grant', error_description: description })

async function token(req, res) {
  const call = { at: now(), grant: null, status: 0 }
  stats.tokenCalls.push(call)
  const form = new URLSearchParams(await readBody(req))
  call.grant = form.get('grant_type')
  await sleep(settings.serviceMs)
  const answer = (status, body) => {
    call.status = status
    send(res, status, body, { 'cache-control': 'no-store' })
  }
  if (call.grant === 'refresh_token') {
    const used = form.get('refresh_token') ?? ''
    if (!validRefresh.delete(used)) return answer(400, invalidGrant('refresh token reused'))
    return answer(200, await issueTokens())
  }
  if (call.grant === 'authorization_code') {
    const pending = codes.get(form.get('code') ?? '')
    codes.delete(form.get('code') ?? '')
    if (!pending) return answer(400, invalidGrant('unknown code'))
    if (pending.redirectUri !== form.get('redirect_uri'))
      return answer(400, invalidGrant('redirect_uri mismatch'))
    if (pending.challenge) {
      const verifier = form.get('code_verifier') ?? ''
      const challenge = createHash('sha256').update(verifier).digest('base64url')
      if (challenge !== pending.challenge) return answer(400, invalidGrant('PKCE mismatch'))
    }
    return answer(200, await issueTokens())
  }
  return answer(400, { error: 'unsupported_grant_type' })
}

async function authorized(req) {
  const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '')
  try {
    await jwtVerify(bearer, KEY)
    return true
  } catch {
    return false
  }
}

async function signUpForm(req, res) {
  const at = now()
  const call = { at, status: 0, email: null }
  stats.signups.push(call)
  const text = await readBody(req)
  const ok = await authorized(req)
  // CC counts every request that arrives, answered or not: so does the window.
  let recent = 0
  if (settings.perSecond > 0) {
    for (let i = stats.signups.length - 1; i >= 0 && stats.signups[i].at > at - 1000; i--) recent++
  }
  await sleep(settings.serviceMs)
  const answer = (status, body) => {
    call.status = status
    send(res, status, body)
  }
  if (!ok) return answer(401, { error_key: 'unauthorized', error_message: 'Unauthorized' })
  if (settings.perSecond > 0 && recent > settings.perSecond)
    return answer(429, { error_key: 'throttled', error_message: 'Too Many Requests' })
  let body
  try {
    body = JSON.parse(text)
  } catch {
    return answer(400, [{ error_key: 'json.parse', error_message: 'Bad JSON' }])
  }
  const email = String(body.email_address ?? body.email ?? '')
  call.email = email
  const existing = stats.contacts.has(email)
  stats.contacts.add(email)
  return answer(existing ? 200 : 201, {
    contact_id: randomUUID(),
    action: existing ? 'updated' : 'created',
  })
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  try {
    if (req.method === 'POST' && url.pathname === '/v3/contacts/sign_up_form')
      return await signUpForm(req, res)
    if (req.method === 'POST' && url.pathname === '/oauth2/token') return await token(req, res)
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
      const code = `code-${randomUUID()}`
      const redirectUri = url.searchParams.get('redirect_uri') ?? ''
      codes.set(code, { challenge: url.searchParams.get('code_challenge'), redirectUri })
      const back = new URL(redirectUri)
      back.searchParams.set('code', code)
      back.searchParams.set('state', url.searchParams.get('state') ?? '')
      res.writeHead(302, { location: back.toString(), 'content-length': 0 })
      return res.end()
    }
    if (req.method === 'GET' && url.pathname === '/v3/account/summary') {
      stats.summaryCalls++
      await sleep(settings.serviceMs)
      if (!(await authorized(req))) return send(res, 401, { error_key: 'unauthorized' })
      return send(res, 200, { organization_name: 'Bench Bakery', encoded_account_id: 'bench-1' })
    }
    if (url.pathname === '/__bench/config' && req.method === 'POST') {
      Object.assign(settings, JSON.parse(await readBody(req)))
      return send(res, 200, settings)
    }
    if (url.pathname === '/__bench/reset' && req.method === 'POST') {
      stats = freshStats()
      return send(res, 200, { ok: true })
    }
    if (url.pathname === '/__bench/token' && req.method === 'POST') {
      // A long-lived access token for the baseline worker (not counted as a token call).
      return send(res, 200, await issueTokens())
    }
    if (url.pathname === '/__bench/stats') {
      return send(res, 200, {
        tokenCalls: stats.tokenCalls,
        signups: stats.signups.map(({ at, status }) => ({ at, status })),
        contacts: stats.contacts.size,
        summaryCalls: stats.summaryCalls,
      })
    }
    send(res, 404, { error_key: 'not_found' })
  } catch (err) {
    send(res, 500, { error_key: 'fake_error', error_message: String(err) })
  }
})

server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
// The bench owns this process: it ends when the parent closes our stdin or sends SIGTERM.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => process.exit(0))
