#!/usr/bin/env node
/**
 * `npm run bench [-- --ci]`: issue 8's benchmarks and budgets in one command (README of the
 * method: docs/benchmarks.md).
 *
 * The worker is built exactly as it deploys (`wrangler deploy --dry-run --outdir`) and run in
 * workerd through Miniflare 4's API, behind Miniflare's real HTTP listener on 127.0.0.1. Constant
 * Contact is bench/fake-cc.mjs, a separate Node process on 127.0.0.1 with a fixed service time. The
 * baseline is bench/baseline-worker.js, a bare Hono worker that forwards the same body to the same
 * fake. Every request targets 127.0.0.1; every loop is bounded by a deadline and a count.
 *
 * Flags:
 *   --ci         reduced run (< 2 min): shorter overhead windows (c=1 and c=64, 7 rounds), a
 *                60-sign-up burst, 15 cold starts of each worker (21 in the full run). Enforces
 *                only the budgets that hold on a noisy 2-core machine (ratios, counts, sizes);
 *                absolute times, the c=1 overhead and the cold start are reported. Writes
 *                results to the temp dir, not docs/.
 *   --no-docs    do not write docs/benchmarks.md and docs/img/benchmarks.svg.
 *   --only=a,b   run some scenarios only: size, cold, overhead, burst, tagged, webhook, refresh,
 *                backlog.
 *   --project=DIR  build the relay from DIR (a patched copy with a node_modules symlink), to
 *                measure a proposed fix before it lands.
 *
 * Knobs for investigating (any of them, like --only and --project, keeps docs/ untouched):
 * BENCH_LEVELS=1,8,64 (concurrencies), BENCH_ROUNDS=n (overhead rounds), BENCH_BURST=n,ms (burst
 * size and spread), BENCH_SERVICE_MS=ms (the fake's service time). bench/profile.mjs takes a CPU
 * profile of the relay under load.
 *
 * Exit status: 0 when every enforced budget holds, 1 when one is missed, 2 when the run failed.
 */
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { supportedCompatibilityDate } from 'miniflare'
import {
  baselineOptions,
  buildBaseline,
  buildRelay,
  closedLoop,
  connect,
  cpuMs,
  owner,
  project,
  readWranglerToml,
  relayOptions,
  relayStatus,
  root,
  sleep,
  startFake,
  startWorker,
  subscribe,
  summarize,
  UNPACED,
  workerdColdStart,
} from './lib/harness.mjs'
import { agent, now, request } from './lib/http.mjs'
import { renderMarkdown, renderSvg } from './lib/report.mjs'
import { countBy, maxInWindow, percentile, rateBetween, round } from './lib/stats.mjs'

const args = new Set(process.argv.slice(2))
const CI = args.has('--ci')
const onlyArg = process.argv.find((a) => a.startsWith('--only='))
const ONLY = onlyArg ? new Set(onlyArg.slice(7).split(',')) : null
const runs = (name) => !ONLY || ONLY.has(name)
const TUNED = Object.keys(process.env).some((k) => k.startsWith('BENCH_'))
const WRITE_DOCS = !CI && !args.has('--no-docs') && !ONLY && !TUNED && project === root

/** Everything that differs between the full run and the CI run. */
const PLAN = CI
  ? {
      // More rounds than the full run's: its windows are short, and the enforced c=64 ratio is
      // their median, so that one slow moment of a shared 2-core machine does not decide it.
      rounds: 7,
      warmupMs: 400,
      measureMs: 1000,
      burst: { n: 60, overMs: 3000 },
      taggedBurst: { n: 60, overMs: 3000 },
      drainTimeoutMs: 45_000,
      coldStarts: 15,
    }
  : {
      rounds: 5,
      warmupMs: 1000,
      measureMs: 3000,
      burst: { n: 1000, overMs: 10_000 },
      // Shorter than the plain burst: what it adds is the taggings after the sign-ups.
      taggedBurst: { n: 300, overMs: 3000 },
      drainTimeoutMs: 420_000,
      coldStarts: 21,
    }
if (process.env.BENCH_ROUNDS) PLAN.rounds = Number(process.env.BENCH_ROUNDS)
if (process.env.BENCH_BURST) {
  const [n, overMs] = process.env.BENCH_BURST.split(',').map(Number)
  PLAN.burst = { n, overMs }
}
// The CI run skips c=8, which no budget reads, to pay for its extra rounds.
const LEVELS = (process.env.BENCH_LEVELS ?? (CI ? '1,64' : '1,8,64')).split(',').map(Number)
const SERVICE_MS = Number(process.env.BENCH_SERVICE_MS ?? 20)
const CC_LIMIT = 4
const REFRESH_TTL_S = 6
const REFRESH_CONCURRENCY = 200
/** The backlog scenario: sign-ups waiting in the full relay, and samples per round per route. */
const BACKLOG_PENDING = 20_000
const BACKLOG_SAMPLES = CI ? 60 : 200
const BACKLOG_ROUNDS = 5
const KB = 1024
const BUDGETS = { bundleGzip: 100 * KB, embedGzip: 2 * KB, coldRatio: 1.3 }

const log = (...parts) => console.log(...parts)

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * Baseline and relay in alternating rounds at each concurrency, so that a noisy neighbour on the
 * machine hits both alike. The throughput ratio is the median of the rounds' ratios. Each relay
 * round is a fresh workerd: the queue one round leaves must not drain into the next measurement.
 */
async function overhead(ctx) {
  const { relay, baseline, compat, fake } = ctx
  await fake.configure({ serviceMs: SERVICE_MS, perSecond: 0, ttlSeconds: 86_400 })
  const token = (await fake.token()).access_token
  const base = await startWorker(baselineOptions(baseline, compat, fake, token))
  const rows = []
  try {
    for (const c of LEVELS) {
      const b = []
      const m = []
      for (let round_ = 0; round_ < PLAN.rounds; round_++) {
        b.push(
          await closedLoop(base.url, {
            ...PLAN,
            concurrency: c,
            tag: `base${c}r${round_}`,
            pid: base.pid,
          })
        )
        const r = await startWorker(relayOptions(relay, compat, fake, UNPACED))
        try {
          await connect(r.url)
          m.push(
            await closedLoop(r.url, {
              ...PLAN,
              concurrency: c,
              tag: `relay${c}r${round_}`,
              pid: r.pid,
            })
          )
        } finally {
          await r.mf.dispose()
        }
      }
      const row = {
        concurrency: c,
        baseline: summarize(b),
        relay: summarize(m),
        roundRatios: m.map((x, i) => x.rps / b[i].rps),
      }
      row.ratio = percentile(row.roundRatios, 50)
      rows.push(row)
      row.cpuRatio =
        row.relay.cpuPerRequestMs && row.baseline.cpuPerRequestMs
          ? row.baseline.cpuPerRequestMs / row.relay.cpuPerRequestMs
          : null
      log(
        `  c=${c}: workerd CPU/request baseline ${round(row.baseline.cpuPerRequestMs, 3)} ms, relay ${round(row.relay.cpuPerRequestMs, 3)} ms (capacity ratio ${round(row.cpuRatio, 2)})`
      )
      log(
        `  c=${c}: baseline p50 ${round(row.baseline.p50, 2)} ms ${round(row.baseline.rps)} req/s · relay p50 ${round(row.relay.p50, 2)} ms ${round(row.relay.rps)} req/s ${JSON.stringify(row.relay.statuses)} · ratio ${round(row.ratio, 2)} (rounds ${m.map((x, i) => round(x.rps / b[i].rps, 2)).join(', ')})`
      )
    }
  } finally {
    await base.mf.dispose()
  }
  return rows
}

/**
 * A burst of distinct sign-ups to `form` at the real pacing. For the `tagged` form every contact
 * must also get its tag, and every request to CC's API counts against the 4 per second (the
 * taggings, batched per tag set, go through the same pacer).
 */
async function burst(ctx, { form = 'newsletter', plan = PLAN.burst, webhook = false } = {}) {
  const { relay, compat, fake } = ctx
  const { n, overMs } = plan
  const tagged = form === 'tagged'
  await fake.configure({ serviceMs: SERVICE_MS, perSecond: CC_LIMIT, ttlSeconds: 86_400 })
  // The real pacing: CC_RATE_PER_SECOND and the per-visitor limit at their defaults (4, 10/min).
  const r = await startWorker(relayOptions(relay, compat, fake, { CC_RATE_PER_SECOND: '4' }))
  try {
    await connect(r.url)
    // The webhook bench: every delivered sign-up is also an event for a receiver that takes 2 s.
    if (webhook) await addWebhook(r.url, `${fake.url}/__hook`)
    await fake.reset()
    await sleep(1200) // the relay's pacing window is clear
    const via = agent(512)
    const interval = overMs / n
    const t0 = now()
    const pending = []
    for (let i = 0; i < n; i++) {
      const wait = t0 + i * interval - now()
      if (wait > 1) await sleep(wait)
      pending.push(subscribe(r.url, via, form === 'tagged' ? 'tagged' : 'burst', i, form))
    }
    const answers = await Promise.all(pending)
    const sentMs = now() - t0
    via.destroy()
    log(`  burst: ${n} sent in ${round(sentMs / 1000, 1)} s; draining…`)
    const deadline = performance.now() + PLAN.drainTimeoutMs
    let stats = await fake.stats()
    let lastLog = performance.now()
    const done = (x) => x.contacts >= n && (!tagged || x.tagged >= n)
    while (!done(stats) && performance.now() < deadline) {
      await sleep(CI ? 500 : 2000)
      stats = await fake.stats()
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now()
        log(`    delivered ${stats.contacts}/${n} after ${round((now() - t0) / 1000, 0)} s`)
      }
    }
    await sleep(1500) // anything still in flight, or a late extra request, shows up
    stats = await fake.stats()
    const outbox = (await relayStatus(r.url)).outbox
    const arrivals = stats.signups.map((s) => s.at)
    const delivered = stats.signups.filter((s) => s.status === 200 || s.status === 201)
    const deliveredAt = delivered.map((s) => s.at)
    const ms = answers.map((a) => a.ms)
    // Every request to CC's API after the burst began: sign-ups, taggings, anything else.
    const api = stats.api.filter((x) => x.path.startsWith('/v3/') && x.at >= t0)
    const allArrivals = [...arrivals, ...api.map((x) => x.at)]
    const taggings = api.filter((x) => x.path === '/v3/activities/contacts_taggings_add')
    // What 4/s leaves for sign-ups, over the deliveries the sustained rate is measured on.
    const sorted = deliveredAt.toSorted((a, b) => a - b)
    const [from, to] = [
      sorted[Math.floor(sorted.length * 0.1)],
      sorted[Math.floor(sorted.length * 0.9)],
    ]
    const taggingsInWindow = taggings.filter((x) => x.at >= from && x.at <= to).length
    const leftoverRate = CC_LIMIT - taggingsInWindow / Math.max((to - from) / 1000, 1e-9)
    const seconds = Math.ceil((Math.max(...deliveredAt, t0) - t0) / 1000)
    const overTime = Array.from({ length: seconds + 1 }, (_, s) => ({
      s,
      delivered: deliveredAt.filter((at) => at - t0 <= s * 1000).length,
    }))
    return {
      n,
      overMs,
      sentMs,
      answers: countBy(answers.map((a) => a.status)),
      visitorErrors: answers.filter((a) => a.status !== 200 && a.status !== 202).length,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      ccRequests: arrivals.length,
      ccStatuses: countBy(stats.signups.map((s) => s.status)),
      throttled: stats.signups.filter((s) => s.status === 429).length,
      maxPerSecond: maxInWindow(arrivals, 1000),
      form,
      maxPerSecondAll: maxInWindow(allArrivals, 1000),
      apiRequests: api.length,
      taggingCalls: taggings.length,
      taggingStatuses: countBy(taggings.map((x) => x.status)),
      taggingsInWindow,
      leftoverRate,
      tagged: stats.tagged,
      hooks: stats.hooks,
      // Every CC arrival (ms after the first sign-up) and CC's answer, for a closer look.
      ccArrivals: stats.signups.map((x) => [round(x.at - t0, 1), x.status]),
      delivered: stats.contacts,
      drainSeconds: (Math.max(...deliveredAt) - t0) / 1000,
      overallRate: rateBetween(deliveredAt, 0, 1),
      sustainedRate: rateBetween(deliveredAt, 0.1, 0.9),
      configuredRate: CC_LIMIT,
      slotRestMs: slotRestMs(),
      overTime,
      outbox,
      errorsLogged: r.tail.errors.length,
    }
  } finally {
    await r.mf.dispose()
  }
}

/** An endpoint for `signup.delivered` events at `url` (a loopback http URL is allowed). */
async function addWebhook(relayUrl, url) {
  const res = await request(new URL('/admin/api/webhooks/bench', relayUrl).href, {
    method: 'PUT',
    headers: { ...owner, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['signup.delivered'] }),
  })
  if (res.status !== 201) throw new Error(`webhook endpoint: ${res.status} ${res.body}`)
}

/**
 * How long a pacing slot rests after an answer, read from the source for the report. A source
 * that no longer says it is an error here, not a paragraph quietly missing from the report.
 */
function slotRestMs() {
  const src = readFileSync(join(project, 'src', 'core', 'cc', 'pacer.ts'), 'utf8')
  const m = src.match(/SLOT_REST_MS\s*=\s*([\d_]+)/)
  if (!m) throw new Error('bench: SLOT_REST_MS not found in src/core/cc/pacer.ts')
  return Number(m[1].replaceAll('_', ''))
}

async function refresh(ctx) {
  const { relay, compat, fake } = ctx
  await fake.configure({ serviceMs: SERVICE_MS, perSecond: 0, ttlSeconds: REFRESH_TTL_S })
  const r = await startWorker(relayOptions(relay, compat, fake, UNPACED))
  try {
    const { receivedAt, status } = await connect(r.url)
    const expiresAt = Date.parse(status.access_token_expires_at)
    const lifetime = expiresAt - receivedAt
    const margin = Math.min(3_600_000, lifetime / 4)
    // Warm the isolate and the token cache while the token is fresh.
    const warm = agent(4)
    for (let i = 0; i < 4; i++) await subscribe(r.url, warm, 'warm', 900_000 + i)
    warm.destroy()
    // Fire inside the refresh margin, half a second before expiry.
    const fireAt = expiresAt - Math.min(500, margin / 2)
    await sleep(Math.max(0, fireAt - now()))
    await fake.reset()
    const via = agent(REFRESH_CONCURRENCY)
    const firedAt = now()
    const answers = await Promise.all(
      Array.from({ length: REFRESH_CONCURRENCY }, (_, i) => subscribe(r.url, via, 'refresh', i))
    )
    const doneAt = now()
    via.destroy()
    await sleep(300)
    const stats = await fake.stats()
    const calls = stats.tokenCalls.filter((c) => c.at >= firedAt - 50)
    return {
      concurrency: REFRESH_CONCURRENCY,
      ttlSeconds: REFRESH_TTL_S,
      marginMs: margin,
      firedBeforeExpiryMs: expiresAt - firedAt,
      tookMs: doneAt - firedAt,
      tokenCalls: calls.length,
      refreshCalls: calls.filter((c) => c.grant === 'refresh_token').length,
      answers: countBy(answers.map((a) => a.status)),
      unauthorizedAtCc: stats.signups.filter((s) => s.status === 401).length,
      p50: percentile(
        answers.map((a) => a.ms),
        50
      ),
      p99: percentile(
        answers.map((a) => a.ms),
        99
      ),
    }
  } finally {
    await r.mf.dispose()
  }
}

/**
 * /healthz and /subscribe with an empty outbox and with 20,000 sign-ups waiting (issue #13 item 3:
 * they read running counts, never the outbox). Two relays, one empty and one filled, measured in
 * alternating rounds so that a noisy neighbour hits both alike. The backlog is filled the way it
 * fills in production: sign-ups submitted while the relay is not connected (each is parked in the
 * outbox), with OUTBOX_MAX_PENDING and the per-client limit raised for the bench. Neither relay is
 * connected, so /subscribe takes the same path in both: admission, the cap, the outbox.
 */
async function backlog(ctx) {
  const { relay, compat, fake } = ctx
  await fake.configure({ serviceMs: SERVICE_MS, perSecond: 0, ttlSeconds: 86_400 })
  const vars = { ...UNPACED, OUTBOX_MAX_PENDING: String(2 * BACKLOG_PENDING) }
  const empty = await startWorker(relayOptions(relay, compat, fake, vars))
  const full = await startWorker(relayOptions(relay, compat, fake, vars))
  try {
    const fillStarted = now()
    const fill = await fillOutbox(full.url, BACKLOG_PENDING, 32)
    const fillSeconds = (now() - fillStarted) / 1000
    const pending = (await relayStatus(full.url)).outbox.pending
    log(
      `  backlog: ${pending} pending after ${fill.n} sign-ups in ${round(fillSeconds, 1)} s ${JSON.stringify(fill.statuses)}`
    )
    const samples = { empty: { healthz: [], subscribe: [] }, full: { healthz: [], subscribe: [] } }
    const via = agent(1)
    let seq = 0
    // The filled relay's isolate is warm from the fill: warm the empty one's too (and the
    // filled one's connection), unmeasured, so the rounds compare like with like.
    for (const url of [empty.url, full.url]) {
      for (let i = 0; i < BACKLOG_SAMPLES; i++) {
        await request(new URL('/healthz', url).href, { agent: via })
        await subscribe(url, via, 'warm', 4_000_000 + seq++)
      }
    }
    for (let r = 0; r < BACKLOG_ROUNDS; r++) {
      const order = r % 2 ? ['full', 'empty'] : ['empty', 'full']
      for (const which of order) {
        const url = which === 'empty' ? empty.url : full.url
        for (let i = 0; i < BACKLOG_SAMPLES; i++) {
          const res = await request(new URL('/healthz', url).href, { agent: via })
          samples[which].healthz.push(res.ms)
        }
        for (let i = 0; i < BACKLOG_SAMPLES; i++) {
          const res = await subscribe(url, via, `measure-${which}`, 5_000_000 + seq++)
          if (res.status !== 202) throw new Error(`/subscribe answered ${res.status}: ${res.body}`)
          samples[which].subscribe.push(res.ms)
        }
      }
    }
    via.destroy()
    const p50 = (which, route) => percentile(samples[which][route], 50)
    const result = {
      pending: BACKLOG_PENDING,
      filled: pending,
      fillSeconds,
      fillStatuses: fill.statuses,
      rounds: BACKLOG_ROUNDS,
      samples: BACKLOG_SAMPLES,
      emptyPendingAfter: (await relayStatus(empty.url)).outbox.pending,
    }
    for (const route of ['healthz', 'subscribe']) {
      result[route] = {
        empty: { p50: p50('empty', route), p90: percentile(samples.empty[route], 90) },
        full: { p50: p50('full', route), p90: percentile(samples.full[route], 90) },
        ratio: p50('full', route) / p50('empty', route),
      }
      log(
        `  backlog: ${route} p50 ${round(p50('empty', route), 2)} ms empty, ${round(p50('full', route), 2)} ms at ${BACKLOG_PENDING} pending (${round(result[route].ratio, 3)}×)`
      )
    }
    return result
  } finally {
    await empty.mf.dispose()
    await full.mf.dispose()
  }
}

/** `n` sign-ups from `concurrency` keep-alive clients; the answers by status. */
async function fillOutbox(url, n, concurrency) {
  const via = agent(concurrency)
  const statuses = []
  let next = 0
  const client = async () => {
    while (next < n) {
      const res = await subscribe(url, via, 'backlog', next++)
      statuses.push(res.status)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client))
  via.destroy()
  return { n, statuses: countBy(statuses) }
}

/**
 * Cold start: the first 200 from /healthz of a fresh workerd process (the bundle loaded and
 * evaluated, then the request served; the relay's /healthz also constructs its Durable Object).
 * A worker starts cold again and again over a deployment's life, each time over the object it
 * already has; its storage is created and migrated once, on the very first start. So the budget
 * is measured over an existing, migrated object (a copy of one, for each start), and the first
 * start of a deployment, on empty storage, is reported beside it. Each figure is pairs of
 * starts, relay and baseline back to back, which one goes first alternating, so that a noisy
 * neighbour hits both halves of a pair alike; a figure is the median of the pairs' ratios. One
 * unmeasured start of each first, so that neither pays for a cold disk cache alone.
 * - `miniflare` (the budget): Miniflare's construction to the answer, as every other scenario
 *   starts its workers, over existing storage.
 * - `fresh` (reported): the same on empty storage: the first start of a deployment.
 * - `workerd` (reported): workerd spawned directly from a config file (harness.mjs
 *   `workerdColdStart`), without Miniflare's own start-up, over existing storage.
 */
async function coldStart(ctx) {
  const { relay, baseline, compat, fake, tmp } = ctx
  // /healthz reads neither worker's Constant Contact settings.
  const options = {
    relay: () => relayOptions(relay, compat, fake, {}),
    baseline: () => baselineOptions(baseline, compat, fake, 'unused'),
  }
  // The existing object: migrated by one start of each kind, kept, and copied for every start
  // (a start writes to it, so none may see another's leftovers).
  const seeds = { miniflare: join(tmp, 'seed-miniflare'), workerd: join(tmp, 'seed-workerd') }
  const seeding = await startWorker({ ...options.relay(), durableObjectsPersist: seeds.miniflare })
  await seeding.mf.dispose()
  await workerdColdStart({
    dir: join(tmp, 'seeding'),
    compat,
    bundle: relay.contents,
    bindings: options.relay().bindings,
    durableObject: 'Relay',
    keepDisk: seeds.workerd,
  })
  let copies = 0
  const viaMiniflare = (existing) => async (which) => {
    const persist = existing && which === 'relay' ? join(tmp, `object-${++copies}`) : null
    if (persist) cpSync(seeds.miniflare, persist, { recursive: true })
    const w = await startWorker({
      ...options[which](),
      ...(persist ? { durableObjectsPersist: persist } : {}),
    })
    const cpu = cpuMs(w.pid)
    await w.mf.dispose()
    if (persist) rmSync(persist, { recursive: true, force: true })
    return { wall: w.coldMs, cpu }
  }
  const ways = {
    miniflare: viaMiniflare(true),
    fresh: viaMiniflare(false),
    workerd: (which) =>
      workerdColdStart({
        dir: join(tmp, `cold-${which}`),
        compat,
        bundle: which === 'relay' ? relay.contents : baseline.script,
        bindings: options[which]().bindings,
        durableObject: which === 'relay' ? 'Relay' : undefined,
        seedDisk: which === 'relay' ? seeds.workerd : undefined,
      }),
  }
  const measured = {}
  for (const [way, once] of Object.entries(ways)) {
    const samples = { relay: [], baseline: [] }
    const cpu = { relay: [], baseline: [] }
    await once('baseline')
    await once('relay')
    for (let i = 0; i < PLAN.coldStarts; i++) {
      for (const which of i % 2 ? ['relay', 'baseline'] : ['baseline', 'relay']) {
        const start = await once(which)
        samples[which].push(start.wall)
        if (start.cpu !== null) cpu[which].push(start.cpu)
      }
    }
    const pairRatios = samples.relay.map((ms, i) => ms / samples.baseline[i])
    measured[way] = {
      relay: samples.relay,
      baseline: samples.baseline,
      relayMedian: percentile(samples.relay, 50),
      baselineMedian: percentile(samples.baseline, 50),
      ratio: percentile(pairRatios, 50),
      // workerd's own CPU time up to the answer, which a noisy neighbour disturbs far less.
      cpu: {
        relay: cpu.relay.length ? percentile(cpu.relay, 50) : null,
        baseline: cpu.baseline.length ? percentile(cpu.baseline, 50) : null,
      },
    }
    const m = measured[way]
    log(
      `  cold start (${way}): relay median ${round(m.relayMedian, 0)} ms, baseline ${round(m.baselineMedian, 0)} ms; median pair ratio ${round(m.ratio, 2)}× (pairs ${pairRatios.map((r) => round(r, 2)).join(', ')})`
    )
  }
  return {
    starts: PLAN.coldStarts,
    ...measured.miniflare,
    fresh: measured.fresh,
    workerd: measured.workerd,
  }
}

/**
 * Sizes: the deployed bundle, and embed.js as the relay serves it (GET /embed.js), or as a file
 * (src/embed/embed.js) if the route is missing.
 */
function size(relay, baseline, servedEmbed) {
  const embedPath = join(project, 'src', 'embed', 'embed.js')
  let embed = null
  if (servedEmbed) {
    embed = { from: 'GET /embed.js', raw: servedEmbed.length, gzip: gzipSync(servedEmbed).length }
  } else if (existsSync(embedPath)) {
    const bytes = readFileSync(embedPath)
    embed = { from: 'src/embed/embed.js', raw: bytes.length, gzip: gzipSync(bytes).length }
  }
  return {
    bundle: { raw: relay.raw, gzip: relay.gzip, wranglerSays: relay.wranglerSays },
    baseline: { raw: baseline.raw, gzip: baseline.gzip },
    embed,
  }
}

/** First import of each bundle in a fresh Node process (median of 5): top-level work. */
function importTimes(relay, baseline, tmp) {
  const patched = join(tmp, 'relay-node.mjs')
  const stub =
    'data:text/javascript,export class DurableObject{constructor(ctx,env){this.ctx=ctx;this.env=env}}'
  writeFileSync(
    patched,
    readFileSync(relay.scriptPath, 'utf8').replace(
      /from\s*["']cloudflare:workers["']/g,
      `from ${JSON.stringify(stub)}`
    )
  )
  const basePath = join(tmp, 'baseline-node.mjs')
  writeFileSync(basePath, baseline.script)
  const emptyPath = join(tmp, 'empty.mjs')
  writeFileSync(emptyPath, 'export default {}\n')
  const measure = (file) => {
    const samples = []
    for (let i = 0; i < 5; i++) {
      const out = spawnSync(
        process.execPath,
        [join(root, 'bench', 'lib', 'import-time.mjs'), file],
        {
          encoding: 'utf8',
          timeout: 30_000,
        }
      )
      const parsed = JSON.parse(out.stdout.trim() || '{"error":"no output"}')
      if (parsed.error) return { error: parsed.error }
      samples.push(parsed.ms)
    }
    return { ms: percentile(samples, 50) }
  }
  return { relay: measure(patched), baseline: measure(basePath), empty: measure(emptyPath) }
}

// ---------------------------------------------------------------------------------------------
// Budgets and output

function budgets(results) {
  const list = []
  const add = (name, value, limit, pass, enforced, shown) =>
    list.push({ name, value, limit, pass, enforced, shown })
  const { overhead: o, burst: b, refresh: r, size: s, backlog: q, cold: c } = results
  const tb = results.taggedBurst
  if (o) {
    const c1 = o.find((row) => row.concurrency === 1)
    const c64 = o.find((row) => row.concurrency === 64)
    const delta = c1 ? c1.relay.p50 - c1.baseline.p50 : Number.NaN
    if (c1) add('p50 overhead at c=1', delta, '≤ 2 ms', delta <= 2, !CI, `${round(delta, 2)} ms`)
    const ratio = c64?.ratio ?? Number.NaN
    if (c64)
      add(
        'throughput at c=64 vs baseline',
        ratio,
        '≥ 0.6×',
        ratio >= 0.6,
        true,
        `${round(ratio, 2)}×`
      )
    const errors = o.reduce((sum, row) => sum + row.relay.errors, 0)
    add('overhead: relay errors', errors, '= 0', errors === 0, true, String(errors))
    // A baseline that fails is no baseline: its answers must be CC's 2xx, forwarded.
    const baseErrors = o.reduce((sum, row) => sum + row.baseline.errors, 0)
    add('overhead: baseline errors', baseErrors, '= 0', baseErrors === 0, true, String(baseErrors))
  }
  if (b) {
    add(
      'burst: visitor-facing errors',
      b.visitorErrors,
      '= 0',
      b.visitorErrors === 0,
      true,
      String(b.visitorErrors)
    )
    add('burst: CC 429 throttled', b.throttled, '= 0', b.throttled === 0, true, String(b.throttled))
    add(
      'burst: max CC requests in any 1 s',
      b.maxPerSecond,
      `≤ ${CC_LIMIT}`,
      b.maxPerSecond <= CC_LIMIT,
      true,
      String(b.maxPerSecond)
    )
    const ratio = b.sustainedRate / b.configuredRate
    add(
      'burst: sustained drain rate',
      ratio,
      '≥ 0.9 × 4/s',
      ratio >= 0.9,
      true,
      `${round(b.sustainedRate, 2)}/s = ${round(ratio, 3)}×`
    )
    add(
      'burst: all delivered',
      b.delivered,
      `= ${b.n}`,
      b.delivered === b.n,
      true,
      `${b.delivered}/${b.n}`
    )
  }
  const wb = results.webhookBurst
  if (wb && b) {
    const p50 = wb.p50 / b.p50
    add(
      'webhook burst: visitor p50 vs the same burst without a webhook',
      p50,
      '≤ 1.05×',
      p50 <= 1.05,
      !CI,
      `${round(wb.p50, 2)} vs ${round(b.p50, 2)} ms = ${round(p50, 3)}×`
    )
    const rate = wb.sustainedRate / b.sustainedRate
    add(
      'webhook burst: CC drain rate vs the same burst without a webhook',
      rate,
      '≥ 0.95×',
      rate >= 0.95,
      true,
      `${round(wb.sustainedRate, 2)} vs ${round(b.sustainedRate, 2)}/s = ${round(rate, 3)}× (${wb.hooks} events received)`
    )
  }
  if (tb) {
    add(
      'tagged burst: max CC requests in any 1 s, all endpoints',
      tb.maxPerSecondAll,
      `≤ ${CC_LIMIT}`,
      tb.maxPerSecondAll <= CC_LIMIT,
      true,
      `${tb.maxPerSecondAll} (${tb.apiRequests + tb.ccRequests} requests, ${tb.taggingCalls} taggings)`
    )
    const ratio = tb.sustainedRate / tb.leftoverRate
    add(
      'tagged burst: sign-up drain vs what 4/s leaves after taggings',
      ratio,
      '≥ 0.9×',
      ratio >= 0.9,
      true,
      `${round(tb.sustainedRate, 2)}/s of ${round(tb.leftoverRate, 2)}/s = ${round(ratio, 3)}×`
    )
    const whole = tb.delivered === tb.n && tb.tagged === tb.n && tb.visitorErrors === 0
    add(
      'tagged burst: all delivered and tagged, no visitor errors',
      tb.tagged,
      `= ${tb.n}`,
      whole,
      true,
      `${tb.delivered} delivered, ${tb.tagged} tagged of ${tb.n}; ${tb.visitorErrors} errors`
    )
  }
  if (r) {
    add(
      'refresh: token-endpoint calls',
      r.tokenCalls,
      '= 1',
      r.tokenCalls === 1 && r.refreshCalls === 1,
      true,
      `${r.tokenCalls} (${r.refreshCalls} refresh)`
    )
    const bad = Object.entries(r.answers).filter(([st]) => st !== '200' && st !== '202')
    const n = bad.reduce((sum, [, c]) => sum + c, 0)
    add('refresh: visitor-facing errors', n, '= 0', n === 0, true, String(n))
  }
  if (q) {
    add(
      'backlog: filled to 20,000 pending',
      q.filled,
      `= ${q.pending}`,
      q.filled === q.pending,
      true,
      String(q.filled)
    )
    for (const route of ['healthz', 'subscribe']) {
      const ratio = q[route].ratio
      add(
        `backlog: /${route} p50 at ${q.pending} pending vs empty`,
        ratio,
        '≤ 1.1×',
        ratio <= 1.1,
        true,
        `${round(ratio, 3)}×`
      )
    }
  }
  if (s) {
    add(
      'bundle gzipped',
      s.bundle.gzip,
      '≤ 100 KiB',
      s.bundle.gzip <= BUDGETS.bundleGzip,
      true,
      `${round(s.bundle.gzip / KB, 2)} KiB`
    )
    if (s.embed) {
      add(
        'embed.js gzipped',
        s.embed.gzip,
        '≤ 2 KiB',
        s.embed.gzip <= BUDGETS.embedGzip,
        true,
        `${round(s.embed.gzip / KB, 2)} KiB`
      )
    } else {
      add('embed.js gzipped', null, '≤ 2 KiB', true, false, 'not built yet')
    }
  }
  if (c) {
    add(
      'cold start: first /healthz, relay vs baseline (existing object)',
      c.ratio,
      `≤ ${BUDGETS.coldRatio}×`,
      c.ratio <= BUDGETS.coldRatio,
      // Enforced in the full run only, as the c=1 overhead is: the relay measures 1.2–1.3× on
      // a quiet machine, and single starts spread ±0.2×, so a CI run on a busy 2-core machine
      // would fail or pass by chance. docs/benchmarks.md says where the time goes.
      !CI,
      `${round(c.ratio, 2)}× (${round(c.relayMedian, 0)} vs ${round(c.baselineMedian, 0)} ms)`
    )
    // A deployment's very first start, which also creates and migrates its storage: reported.
    add(
      'cold start: first start of a deployment (empty storage)',
      c.fresh.ratio,
      `≤ ${BUDGETS.coldRatio}×`,
      c.fresh.ratio <= BUDGETS.coldRatio,
      false,
      `${round(c.fresh.ratio, 2)}× (${round(c.fresh.relayMedian, 0)} vs ${round(c.fresh.baselineMedian, 0)} ms)`
    )
    // The same start without Miniflare's own, which is most of the figure above: what the
    // relay's bundle and object add, against the same limit, reported.
    const w = c.workerd
    add(
      'cold start: first /healthz, workerd run directly (existing object)',
      w.ratio,
      `≤ ${BUDGETS.coldRatio}×`,
      w.ratio <= BUDGETS.coldRatio,
      false,
      `${round(w.ratio, 2)}× (${round(w.relayMedian, 0)} vs ${round(w.baselineMedian, 0)} ms)`
    )
  }
  return list
}

function printTables(results, list) {
  if (results.overhead) {
    log('\nOverhead: POST /subscribe/newsletter (JSON), CC service time 20 ms')
    console.table(
      results.overhead.flatMap((row) =>
        ['baseline', 'relay'].map((who) => ({
          c: row.concurrency,
          worker: who,
          'p50 ms': round(row[who].p50, 2),
          'p90 ms': round(row[who].p90, 2),
          'p99 ms': round(row[who].p99, 2),
          'req/s': round(row[who].rps, 0),
          answers: JSON.stringify(row[who].statuses),
        }))
      )
    )
  }
  if (results.burst) {
    const b = results.burst
    log(
      `\nBurst: ${b.n} sign-ups over ${b.overMs / 1000} s, CC_RATE_PER_SECOND=${b.configuredRate}`
    )
    console.table({
      answers: JSON.stringify(b.answers),
      'acceptance p50/p99 ms': `${round(b.p50, 1)} / ${round(b.p99, 1)}`,
      'CC requests (by status)': `${b.ccRequests} ${JSON.stringify(b.ccStatuses)}`,
      'max CC requests in 1 s': b.maxPerSecond,
      delivered: `${b.delivered}/${b.n} in ${round(b.drainSeconds, 1)} s`,
      'drain rate vs limit': `sustained ${round(b.sustainedRate, 2)}/s, overall ${round(b.overallRate, 2)}/s vs CC_RATE_PER_SECOND=${b.configuredRate} (${round(b.sustainedRate / b.configuredRate, 3)}×)`,
      'outbox after': `pending ${b.outbox.pending}, dead ${b.outbox.dead}`,
    })
  }
  if (results.taggedBurst) {
    const t = results.taggedBurst
    log(`\nTagged burst: ${t.n} sign-ups of a tagged form over ${t.overMs / 1000} s`)
    console.table({
      answers: JSON.stringify(t.answers),
      'CC API requests': `${t.ccRequests} sign-ups, ${t.taggingCalls} taggings ${JSON.stringify(t.taggingStatuses)}`,
      'max CC requests in 1 s (all endpoints)': t.maxPerSecondAll,
      'delivered, tagged': `${t.delivered}, ${t.tagged} of ${t.n}`,
      'drain vs what 4/s leaves': `${round(t.sustainedRate, 2)}/s of ${round(t.leftoverRate, 2)}/s`,
    })
  }
  if (results.webhookBurst && results.burst) {
    const [w, b] = [results.webhookBurst, results.burst]
    log('\nWebhook burst: the same burst, each delivered sign-up an event for a 2 s receiver')
    console.table({
      'visitor p50 (ms)': `${round(w.p50, 2)} with, ${round(b.p50, 2)} without`,
      'CC drain rate (/s)': `${round(w.sustainedRate, 3)} with, ${round(b.sustainedRate, 3)} without`,
      'events received': w.hooks,
      answers: JSON.stringify(w.answers),
    })
  }
  if (results.refresh) {
    const r = results.refresh
    log(
      `\nRefresh coalescing: ${r.concurrency} concurrent requests ${round(r.firedBeforeExpiryMs, 0)} ms before expiry`
    )
    console.table({
      'token-endpoint calls': `${r.tokenCalls} (${r.refreshCalls} refresh_token)`,
      answers: JSON.stringify(r.answers),
      'p50/p99 ms': `${round(r.p50, 1)} / ${round(r.p99, 1)}`,
    })
  }
  if (results.backlog) {
    const q = results.backlog
    log(`\nHealth and status at a backlog: ${q.pending} sign-ups waiting vs none`)
    console.table(
      ['healthz', 'subscribe'].map((route) => ({
        route: `/${route}`,
        'p50 empty ms': round(q[route].empty.p50, 2),
        [`p50 at ${q.pending} ms`]: round(q[route].full.p50, 2),
        ratio: round(q[route].ratio, 3),
      }))
    )
  }
  if (results.size || results.cold) {
    log('\nSize and cold start')
    const s = results.size
    const c = results.cold
    const rows = {}
    if (s) {
      rows['worker bundle'] =
        `${s.bundle.raw} B raw, ${s.bundle.gzip} B gzip (wrangler: ${s.bundle.wranglerSays})`
      rows['baseline bundle'] = `${s.baseline.raw} B raw, ${s.baseline.gzip} B gzip`
      rows['embed.js'] = s.embed
        ? `${s.embed.raw} B raw, ${s.embed.gzip} B gzip (${s.embed.from})`
        : 'not built yet'
    }
    if (c) {
      rows['Miniflare start → first 200 (median)'] =
        `relay ${round(c.relayMedian, 0)} ms, baseline ${round(c.baselineMedian, 0)} ms, ${c.starts} starts each: ${round(c.ratio, 2)}×`
      rows['top-level import (Node, median of 5)'] =
        `relay ${fmtImport(c.imports.relay)}, baseline ${fmtImport(c.imports.baseline)}, empty module ${fmtImport(c.imports.empty)}`
    }
    console.table(rows)
  }
  log('\nBudgets')
  console.table(
    list.map((b) => ({
      budget: b.name,
      measured: b.shown,
      limit: b.limit,
      result: b.enforced
        ? b.pass
          ? 'pass'
          : 'FAIL'
        : b.pass
          ? 'pass (reported)'
          : 'miss (reported)',
    }))
  )
}

const fmtImport = (m) => (m?.error ? `n/a (${m.error})` : `${round(m?.ms, 1)} ms`)

function machineNotes() {
  return {
    node: process.version,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    platform: `${process.platform} ${process.arch}`,
    miniflare: JSON.parse(readFileSync(join(root, 'node_modules/miniflare/package.json'), 'utf8'))
      .version,
    wrangler: JSON.parse(readFileSync(join(root, 'node_modules/wrangler/package.json'), 'utf8'))
      .version,
    date: new Date().toISOString(),
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now()
  const tmp = mkdtempSync(join(tmpdir(), 'ctct-bench-'))
  const toml = readWranglerToml()
  // workerd refuses a date newer than it knows; wrangler dev clamps the same way.
  const compat = {
    date: [toml.date, supportedCompatibilityDate].sort()[0],
    declared: toml.date,
    compatibilityFlags: toml.compatibilityFlags,
  }
  log(`ctct-relay bench (${CI ? 'CI, reduced' : 'full'}); work dir ${tmp}`)
  log('building: wrangler deploy --dry-run --outdir …')
  const relay = buildRelay(join(tmp, 'dist'))
  const baseline = await buildBaseline()
  const fake = await startFake()
  const ctx = { relay, baseline, compat, fake, tmp }
  const results = {
    mode: CI ? 'ci' : 'full',
    machine: machineNotes(),
    compat,
    plan: PLAN,
    slotRestMs: slotRestMs(),
  }
  try {
    if (runs('size')) {
      // embed.js as the relay serves it.
      const r = await startWorker(relayOptions(relay, compat, fake, {}))
      const res = await request(new URL('/embed.js', r.url).href)
      await r.mf.dispose()
      const served = res.status === 200 ? Buffer.from(res.body, 'utf8') : null
      results.size = size(relay, baseline, served)
    }
    if (runs('overhead')) {
      log('overhead: closed loop at concurrency 1, 8, 64')
      results.overhead = await overhead(ctx)
    }
    if (runs('burst')) {
      log(`burst: ${PLAN.burst.n} sign-ups over ${PLAN.burst.overMs / 1000} s at the real pacing`)
      results.burst = await burst(ctx)
    }
    if (runs('tagged')) {
      const t = PLAN.taggedBurst
      log(`tagged burst: ${t.n} sign-ups of a tagged form over ${t.overMs / 1000} s`)
      results.taggedBurst = await burst(ctx, { form: 'tagged', plan: t })
    }
    if (runs('webhook')) {
      log(`webhook: the burst again, each sign-up an event for a receiver that answers in 2 s`)
      results.burst ??= await burst(ctx)
      results.webhookBurst = await burst(ctx, { webhook: true })
    }
    if (runs('refresh')) {
      log(`refresh: ${REFRESH_CONCURRENCY} concurrent requests at token expiry`)
      results.refresh = await refresh(ctx)
    }
    if (runs('backlog')) {
      log(`backlog: /healthz and /subscribe with 0 and ${BACKLOG_PENDING} sign-ups waiting`)
      results.backlog = await backlog(ctx)
    }
    if (runs('cold')) {
      log(
        `cold start: ${PLAN.coldStarts} fresh workerd starts each, relay and baseline alternating`
      )
      results.cold = { ...(await coldStart(ctx)), imports: importTimes(relay, baseline, tmp) }
    }
  } finally {
    fake.stop()
  }
  results.totalSeconds = (performance.now() - started) / 1000
  const list = budgets(results)
  results.budgets = list
  printTables(results, list)
  log(`\ntotal ${round(results.totalSeconds, 1)} s`)

  const outDir = WRITE_DOCS ? join(root, 'docs') : join(tmp, 'out')
  mkdirSync(join(outDir, 'img'), { recursive: true })
  writeFileSync(join(outDir, 'benchmarks.md'), renderMarkdown(results))
  writeFileSync(join(outDir, 'img', 'benchmarks.svg'), renderSvg(results))
  writeFileSync(join(tmp, 'results.json'), JSON.stringify(results, null, 2))
  log(`wrote ${join(outDir, 'benchmarks.md')}, ${join(outDir, 'img', 'benchmarks.svg')}`)
  if (!WRITE_DOCS) log(`results: ${join(tmp, 'results.json')}`)
  rmSync(join(tmp, 'dist'), { recursive: true, force: true })

  const missed = list.filter((b) => b.enforced && !b.pass)
  if (missed.length > 0) {
    log(`\nFAILED budgets: ${missed.map((b) => b.name).join('; ')}`)
    process.exitCode = 1
  } else {
    log('\nall enforced budgets pass')
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 2
})
