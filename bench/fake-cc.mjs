/**
 * Constant Contact on 127.0.0.1 for the benchmarks: the project's one model of CC
 * (src/sandbox/model.ts, loaded through Node's TypeScript type stripping) behind a small node:http
 * adapter. It runs as its own process, so the load generator never delays its timers:
 * `node bench/fake-cc.mjs` prints `{"port":N}` once listening.
 *
 * The model answers OAuth (authorize, token) and the API (sign_up_form, lists, account summary)
 * and tagging activities as CC does, counting arrivals against `perSecond` (429 throttled beyond it; 0 = no limit). Every
 * answer waits `serviceMs`. The bench's controls: POST /__bench/config {serviceMs, perSecond,
 * ttlSeconds}, POST /__bench/reset, GET /__bench/stats, POST /__bench/token (a token set for the
 * baseline worker). POST /__hook is a webhook receiver that answers after `hookMs`.
 */
import { createServer } from 'node:http'
import { CcModel, DroppedConnection } from '../src/sandbox/model.ts'
import { BENCH_LIST, BENCH_TAG } from './lib/bench-config.mjs'

const clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}
const cc = new CcModel({
  clock,
  lists: [{ list_id: BENCH_LIST, name: 'Bench list' }],
  tags: [{ tag_id: BENCH_TAG, name: 'Bench tag' }],
})
const settings = { serviceMs: 20, perSecond: 4, ttlSeconds: 86_400, hookMs: 2000 }
/** Arrival times at the owner's webhook receiver (POST /__hook), which answers after hookMs. */
let hookArrivals = []

function apply() {
  cc.latency = { arrive: 0, answer: settings.serviceMs }
  cc.perSecond = settings.perSecond
  cc.tokenTtlSeconds = settings.ttlSeconds
}
apply()

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** A token set for the baseline worker: the consent and code exchange, as a confidential app. */
async function baselineToken() {
  const redirectUri = 'http://127.0.0.1/baseline'
  const consent = await cc.handle(
    new Request(
      `http://cc.local/oauth2/authorize?client_id=baseline&redirect_uri=${encodeURIComponent(redirectUri)}&scope=contact_data+offline_access`
    )
  )
  const code = new URL(consent.headers.get('location')).searchParams.get('code')
  const exchange = await cc.handle(
    new Request('http://cc.local/oauth2/token', {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('baseline:secret')}` },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      }),
    })
  )
  return exchange.json()
}

async function control(req, res, url) {
  if (url.pathname === '/__bench/config' && req.method === 'POST') {
    Object.assign(settings, JSON.parse((await readBody(req)).toString('utf8')))
    apply()
    return sendJson(res, 200, settings)
  }
  if (url.pathname === '/__bench/reset' && req.method === 'POST') {
    cc.tokenCalls = []
    cc.signupCalls = []
    cc.apiCalls = []
    cc.contacts = new Map()
    hookArrivals = []
    return sendJson(res, 200, { ok: true })
  }
  if (url.pathname === '/__bench/token' && req.method === 'POST')
    return sendJson(res, 200, await baselineToken())
  if (url.pathname === '/__bench/stats') {
    return sendJson(res, 200, {
      tokenCalls: cc.tokenCalls.map(({ at, grant, status }) => ({ at, grant, status })),
      signups: cc.signupCalls.map(({ at, answered }) => ({ at, status: answered })),
      contacts: cc.contacts.size,
      tagged: [...cc.contacts.values()].filter((c) => c.tag_ids.includes(BENCH_TAG)).length,
      // Every other API request (taggings, the catalog, …): with sign-ups, all CC counts.
      api: cc.apiCalls.map(({ at, method, path, status }) => ({ at, method, path, status })),
      summaryCalls: cc.apiCalls.filter((c) => c.path.startsWith('/v3/account/summary')).length,
      hooks: hookArrivals.length,
    })
  }
  return sendJson(res, 404, { error_key: 'not_found' })
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  if (url.pathname.startsWith('/__bench/')) return control(req, res, url)
  // A slow webhook receiver (the webhook bench): every event answered 204 after hookMs.
  if (url.pathname === '/__hook' && req.method === 'POST') {
    await readBody(req)
    hookArrivals.push(clock.now())
    await clock.sleep(settings.hookMs)
    res.writeHead(204).end()
    return
  }
  try {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req)
    const answer = await cc.handle(
      new Request(url, { method: req.method, headers: req.headers, body })
    )
    const bytes = Buffer.from(await answer.arrayBuffer())
    res.writeHead(answer.status, {
      ...Object.fromEntries(answer.headers),
      'content-length': bytes.length,
    })
    res.end(bytes)
  } catch (err) {
    // A dropped connection, as CC's would drop: no answer at all.
    if (err instanceof DroppedConnection) return res.socket?.destroy()
    sendJson(res, 500, { error_key: 'fake_error', error_message: String(err) })
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
