#!/usr/bin/env node
/**
 * CPU profile of the relay under load, taken through workerd's inspector (Chrome DevTools
 * protocol): `node scripts/with-node.mjs node bench/profile.mjs [--concurrency=64] [--seconds=3]`.
 * Prints the functions with the most self time and writes the .cpuprofile (open it in Chrome
 * DevTools → Performance) next to the built bundle. Loopback only, bounded like the bench.
 * BENCH_UNMINIFIED=1 builds without minifying, so the profile names the functions.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { supportedCompatibilityDate } from 'miniflare'
import {
  buildRelay,
  closedLoop,
  connect,
  readWranglerToml,
  relayOptions,
  startFake,
  startWorker,
  summarize,
  UNPACED,
} from './lib/harness.mjs'
import { request } from './lib/http.mjs'
import { round } from './lib/stats.mjs'

const arg = (name, fallback) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback)
const concurrency = arg('concurrency', 64)
const seconds = arg('seconds', 3)
const INSPECTOR_PORT = arg('inspector-port', 9339)

/** A minimal CDP session over Node's WebSocket. */
async function cdp(wsUrl) {
  const ws = new WebSocket(wsUrl)
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true })
    ws.addEventListener('error', reject, { once: true })
  })
  let id = 0
  const waiting = new Map()
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data))
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg)
      waiting.delete(msg.id)
    }
  })
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        const n = ++id
        waiting.set(n, resolve)
        ws.send(JSON.stringify({ id: n, method, params }))
      }),
    close: () => ws.close(),
  }
}

function hotspots(profile, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  const dt = profile.timeDeltas
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i])
    const f = node.callFrame
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  // Inclusive time: a sample counts once for every distinct function on its stack.
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const seen = new Set()
    for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + (dt[i] ?? 0))
    }
  }
  return {
    totalMs: total / 1000,
    inclusive: [...inclusive.entries()]
      .filter(([k]) => !k.startsWith('(root)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ fn: k, ms: round(us / 1000, 1), pct: round((us / total) * 100, 1) })),
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ fn: k, ms: round(us / 1000, 1), pct: round((us / total) * 100, 1) })),
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'ctct-profile-'))
const toml = readWranglerToml()
const compat = { ...toml, date: [toml.date, supportedCompatibilityDate].sort()[0] }
const relay = buildRelay(join(tmp, 'dist'))
const fake = await startFake()
await fake.configure({ serviceMs: 20, perSecond: 0, ttlSeconds: 86_400 })
const r = await startWorker({
  ...relayOptions(relay, compat, fake, UNPACED),
  inspectorPort: INSPECTOR_PORT,
})
try {
  await connect(r.url)
  const targets = JSON.parse((await request(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).body)
  const target = targets.find((t) => !t.title?.startsWith('core:')) ?? targets[0]
  console.log(
    'inspector targets:',
    targets.map((t) => t.title),
    '→',
    target.title
  )
  const session = await cdp(target.webSocketDebuggerUrl)
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', { interval: 200 })
  await session.send('Profiler.start')
  const loop = await closedLoop(r.url, {
    concurrency,
    tag: 'profile',
    warmupMs: 300,
    measureMs: seconds * 1000,
  })
  const { result } = await session.send('Profiler.stop')
  const m = summarize([loop])
  session.close()
  const file = join(tmp, 'relay.cpuprofile')
  writeFileSync(file, JSON.stringify(result.profile))
  console.log(
    `c=${concurrency}: ${round(m.rps, 0)} req/s, p50 ${round(m.p50, 2)} ms, ${JSON.stringify(m.statuses)}`
  )
  const s = hotspots(result.profile)
  console.log(`sampled ${round(s.totalMs, 0)} ms of the worker isolate's thread; top self time:`)
  console.table(s.top)
  console.log('top inclusive time:')
  console.table(s.inclusive)
  console.log(`profile: ${file}`)
} finally {
  await r.mf.dispose()
  fake.stop()
}
