/**
 * The bench's building blocks: builds, the fake CC process, workers in Miniflare, the owner's
 * Connect, and the load generators. Shared by bench/run.mjs and bench/profile.mjs.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { BENCH_TAG, BENCH_LIST as LIST } from './bench-config.mjs'
import { agent, now, request } from './http.mjs'
import { countBy, percentile } from './stats.mjs'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef'
export const SITE = 'https://site.bench'
const MAX_REQUESTS_PER_LEVEL = 200_000
const runId = Date.now().toString(36)
/**
 * The project the relay is built from: this repo, or `--project=DIR` (a patched copy, to measure a
 * proposed fix before it lands; it needs its own node_modules, a symlink is enough).
 */
export const project = (() => {
  const arg = process.argv.find((a) => a.startsWith('--project='))
  return arg ? resolve(arg.slice('--project='.length)) : root
})()
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function readWranglerToml() {
  const toml = readFileSync(join(project, 'wrangler.toml'), 'utf8')
  const date = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1]
  const flags = toml.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1]
  const binding = toml.match(/\[\[durable_objects\.bindings\]\][^[]*?^name\s*=\s*"([^"]+)"/m)?.[1]
  const className = toml.match(/class_name\s*=\s*"([^"]+)"/)?.[1]
  const sqlite = /new_sqlite_classes\s*=\s*\[[^\]]*"Relay"/.test(toml)
  if (binding !== 'RELAY' || className !== 'Relay' || !sqlite) {
    throw new Error('wrangler.toml no longer declares RELAY → Relay (sqlite): update bench/run.mjs')
  }
  const compatibilityFlags = flags ? [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]) : []
  return { date, compatibilityFlags }
}

export function buildRelay(outdir) {
  const wrangler = join(project, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
  const started = performance.now()
  const result = spawnSync(
    process.execPath,
    // --env= targets the top-level environment (wrangler.toml also defines [env.staging]).
    [
      wrangler,
      'deploy',
      '--dry-run',
      '--env=',
      '--outdir',
      outdir,
      // Function names in a CPU profile (bench/profile.mjs); never for measured sizes or times.
      ...(process.env.BENCH_UNMINIFIED ? ['--minify=false'] : []),
    ],
    {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 120_000,
    }
  )
  if (result.status !== 0) {
    throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`)
  }
  const scriptPath = join(outdir, 'worker.js')
  const bytes = readFileSync(scriptPath)
  const line = `${result.stdout}`.match(/Total Upload:\s*([\d.]+ KiB)\s*\/\s*gzip:\s*([\d.]+ KiB)/)
  return {
    scriptPath,
    contents: bytes,
    raw: bytes.length,
    gzip: gzipSync(bytes).length,
    wranglerSays: line ? `${line[1]} / gzip ${line[2]}` : null,
    buildMs: performance.now() - started,
  }
}

export async function buildBaseline() {
  const out = await build({
    entryPoints: [join(root, 'bench', 'baseline-worker.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    write: false,
    logLevel: 'silent',
  })
  const script = out.outputFiles[0].text
  return { script, raw: Buffer.byteLength(script), gzip: gzipSync(script).length }
}

// ---------------------------------------------------------------------------------------------
// The fake Constant Contact

export async function startFake() {
  const child = spawn(process.execPath, [join(root, 'bench', 'fake-cc.mjs')], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const port = await Promise.race([
    new Promise((resolve) =>
      createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l).port))
    ),
    sleep(10_000).then(() => {
      throw new Error('fake CC did not start')
    }),
  ])
  const url = `http://127.0.0.1:${port}`
  const control = async (path, body) => {
    const res = await request(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (res.status !== 200) throw new Error(`fake ${path}: ${res.status} ${res.body}`)
    return JSON.parse(res.body)
  }
  return {
    url,
    configure: (settings) => control('/__bench/config', settings),
    reset: () => control('/__bench/reset', {}),
    stats: () => control('/__bench/stats'),
    token: () => control('/__bench/token', {}),
    stop: () => {
      child.stdin.end()
      child.kill('SIGTERM')
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Workers in Miniflare

/** Keeps workerd's stdout/stderr off the terminal; remembers the tail for error reports. */
function stdioSink(tail) {
  return (stdout, stderr) => {
    for (const stream of [stdout, stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail.lines++
        if (/"msg":"unhandled_error"|Uncaught|Error/.test(line)) tail.errors.push(line)
        tail.last.push(line)
        if (tail.last.length > 20) tail.last.shift()
      })
    }
  }
}

async function firstOk(url, deadlineMs = 20_000) {
  const deadline = performance.now() + deadlineMs
  for (;;) {
    const res = await request(new URL('/healthz', url).href)
    if (res.status === 200) return
    if (performance.now() > deadline) throw new Error(`no 200 from /healthz: ${res.status}`)
    await sleep(5)
  }
}

/** Starts a worker and measures Miniflare construction → first 200 on /healthz. */
export async function startWorker(options) {
  const tail = { lines: 0, errors: [], last: [] }
  const before = workerdPids()
  const started = performance.now()
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio: stdioSink(tail),
    ...options,
  })
  const url = await mf.ready
  const readyMs = performance.now() - started
  await firstOk(url)
  const coldMs = performance.now() - started
  const fresh = [...workerdPids()].filter((pid) => !before.has(pid))
  return { mf, url, tail, readyMs, coldMs, pid: fresh.length === 1 ? fresh[0] : null }
}

/** The workerd binary Miniflare runs (the `workerd` package Miniflare depends on). */
const workerdBinary = createRequire(createRequire(import.meta.url).resolve('miniflare'))(
  'workerd'
).default

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** A capnp text literal: JSON's escapes (\", \\, \n, \uXXXX) are capnp's too. */
const capnpText = (value) => JSON.stringify(String(value))

/**
 * One cold start of workerd itself: a fresh process spawned with a config file that embeds the
 * worker's bundle from disk, as `workerd serve` runs in production, timed from the spawn to the
 * first 200 on /healthz. Not through Miniflare: its Node-side config encoder copies its buffer
 * each time it grows, about 0.3 ms per KiB of script on the bench machine, so through it the
 * figure was mostly the bundle's bytes passing through Node, which no deployment pays.
 * `durableObject`: the class the `RELAY` binding names, SQLite-backed, on a fresh disk, or on a
 * copy of `seedDisk` (an earlier start's, kept with `keepDisk`): a deployment's existing object.
 */
export async function workerdColdStart({
  dir,
  bundle,
  bindings,
  durableObject,
  compat,
  path = '/healthz',
  seedDisk,
  keepDisk,
}) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'do'), { recursive: true })
  if (seedDisk) cpSync(seedDisk, join(dir, 'do'), { recursive: true })
  writeFileSync(join(dir, 'worker.js'), bundle)
  const port = await freePort()
  const text = Object.entries(bindings).map(
    ([name, value]) => `(name = ${capnpText(name)}, text = ${capnpText(value)})`
  )
  if (durableObject)
    text.push(`(name = "RELAY", durableObjectNamespace = ${capnpText(durableObject)})`)
  const objects = durableObject
    ? `durableObjectNamespaces = [(className = ${capnpText(durableObject)}, uniqueKey = "bench", enableSql = true)],
  durableObjectStorage = (localDisk = "do-disk"),`
    : ''
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "do-disk", disk = (path = ${capnpText(join(dir, 'do'))}, writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${capnpText(compat.date)},
  compatibilityFlags = [${(compat.compatibilityFlags ?? []).map(capnpText).join(', ')}],
  bindings = [${text.join(', ')}],
  ${objects}
);
`
  )
  const started = performance.now()
  const child = spawn(workerdBinary, ['serve', join(dir, 'config.capnp')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    const deadline = started + 20_000
    for (;;) {
      const res = await request(`http://127.0.0.1:${port}${path}`).catch(() => null)
      if (res?.status === 200) break
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`workerd: no 200 from /healthz (${res?.status ?? 'refused'}) ${stderr}`)
      await sleep(2)
    }
    return { wall: performance.now() - started, cpu: cpuMs(child.pid) }
  } finally {
    child.kill('SIGKILL')
    await exited
    if (keepDisk) cpSync(join(dir, 'do'), keepDisk, { recursive: true })
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Our workerd children, from /proc (Linux); empty elsewhere. */
function workerdPids() {
  const pids = new Set()
  let entries = []
  try {
    entries = readdirSync('/proc')
  } catch {
    return pids
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue
    const stat = procStat(name)
    if (stat?.comm === 'workerd' && stat.ppid === process.pid) pids.add(Number(name))
  }
  return pids
}

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = text.lastIndexOf(')')
    const fields = text.slice(close + 2).split(' ')
    return {
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(fields[1]),
      // utime + stime, all threads, in clock ticks (USER_HZ = 100 on Linux).
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
    }
  } catch {
    return null
  }
}

/** CPU time a workerd process has used so far (ms, 10 ms resolution), or null. */
export function cpuMs(pid) {
  return pid ? (procStat(pid)?.cpuMs ?? null) : null
}

/** Pacing and per-IP limits set high, so the relay's own cost is measured and not CC's 4/s. */
export const UNPACED = { CC_RATE_PER_SECOND: '100', SUBMIT_RATE_LIMIT_PER_MINUTE: '10000' }

/**
 * A bundle as the one ES module it is, which is how wrangler uploads it. Given `modules: true`
 * instead, Miniflare parses the script with acorn in Node, on every start, to find imports a
 * bundle does not have: about half a second for the relay's bundle on the bench machine, more
 * than workerd takes to start, and in no deployment.
 */
const esModule = (path, contents) => [{ type: 'ESModule', path, contents }]

export function relayOptions(relay, compat, fake, vars) {
  return {
    modules: esModule(relay.scriptPath, relay.contents),
    modulesRoot: dirname(relay.scriptPath),
    compatibilityDate: compat.date,
    compatibilityFlags: compat.compatibilityFlags,
    durableObjects: { RELAY: { className: 'Relay', useSQLite: true } },
    bindings: {
      CC_CLIENT_ID: '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6cbe4c',
      ADMIN_TOKEN,
      FORMS: JSON.stringify({
        newsletter: { lists: [LIST], origins: [SITE] },
        tagged: { lists: [LIST], origins: [SITE], tags: [BENCH_TAG] },
      }),
      CC_AUTHORIZE_URL: `${fake.url}/oauth2/authorize`,
      CC_TOKEN_URL: `${fake.url}/oauth2/token`,
      CC_API_BASE_URL: `${fake.url}/v3`,
      ...vars,
    },
  }
}

export function baselineOptions(baseline, compat, fake, token) {
  return {
    modules: esModule('baseline-worker.js', baseline.script),
    compatibilityDate: compat.date,
    bindings: { CC_API_BASE_URL: `${fake.url}/v3`, CC_TOKEN: token, CC_LIST: LIST },
  }
}

export const owner = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** The owner's Connect, as a browser would do it: authorize → CC consent → callback. */
export async function connect(url) {
  const start = await request(new URL('/oauth/authorize', url).href, { headers: owner })
  if (start.status !== 302) throw new Error(`authorize: ${start.status} ${start.body}`)
  const consent = await request(start.headers.location)
  if (consent.status !== 302) throw new Error(`fake authorize: ${consent.status}`)
  // The callback must come from the client that started the Connect: with its cookie.
  const cookie = (start.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ')
  const callback = await request(consent.headers.location, { headers: { cookie } })
  const receivedAt = now()
  if (callback.status !== 303) throw new Error(`callback: ${callback.status} ${callback.body}`)
  const status = await relayStatus(url)
  if (!status.connected) throw new Error(`not connected after callback: ${JSON.stringify(status)}`)
  return { receivedAt, status }
}

export async function relayStatus(url) {
  const res = await request(new URL('/admin/status', url).href, { headers: owner })
  if (res.status !== 200) throw new Error(`/admin/status: ${res.status} ${res.body}`)
  return JSON.parse(res.body)
}

export function clientIp(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

/** A sign-up to `form`: `newsletter`, or `tagged` (the same with a tag in CC). */
export function subscribe(url, via, tag, i, form = 'newsletter') {
  return request(new URL(`/subscribe/${form}`, url).href, {
    method: 'POST',
    agent: via,
    headers: {
      origin: SITE,
      'content-type': 'application/json',
      accept: 'application/json',
      'cf-connecting-ip': clientIp(i),
    },
    body: JSON.stringify({ email: `${tag}-${runId}-${i}@example.com`, first_name: 'Bench' }),
  })
}

/**
 * Closed loop: `concurrency` clients, each sending its next request when the last one answers.
 * A warm-up, then a measured window. Returns the raw samples; see `summarize`.
 */
export async function closedLoop(url, { concurrency, tag, warmupMs, measureMs, pid = null }) {
  const via = agent(concurrency)
  let seq = 0
  const phase = async (ms, out) => {
    const until = performance.now() + ms
    const client = async () => {
      while (performance.now() < until && seq < MAX_REQUESTS_PER_LEVEL) {
        const res = await subscribe(url, via, tag, seq++)
        out?.push({ status: res.status, ms: res.ms })
      }
    }
    await Promise.all(Array.from({ length: concurrency }, client))
  }
  await phase(warmupMs, null)
  const samples = []
  const cpuBefore = cpuMs(pid)
  const started = performance.now()
  await phase(measureMs, samples)
  const elapsedMs = performance.now() - started
  const cpuAfter = cpuMs(pid)
  via.destroy()
  const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore
  return { samples, elapsedMs, rps: (samples.length / elapsedMs) * 1000, cpuMs: cpu }
}

/** Pools the rounds of one worker at one concurrency. */
export function summarize(rounds) {
  const samples = rounds.flatMap((r) => r.samples)
  const elapsed = rounds.reduce((sum, r) => sum + r.elapsedMs, 0)
  const ms = samples.map((r) => r.ms)
  const cpu = rounds.every((r) => r.cpuMs !== null)
    ? rounds.reduce((sum, r) => sum + r.cpuMs, 0)
    : null
  return {
    requests: samples.length,
    rounds: rounds.length,
    /** workerd CPU (all threads) per request during the measured windows. */
    cpuPerRequestMs: cpu === null ? null : cpu / samples.length,
    rps: (samples.length / elapsed) * 1000,
    roundRps: rounds.map((r) => r.rps),
    p50: percentile(ms, 50),
    p90: percentile(ms, 90),
    p99: percentile(ms, 99),
    p50Delivered: percentile(
      samples.filter((r) => r.status === 200).map((r) => r.ms),
      50
    ),
    statuses: countBy(samples.map((r) => r.status)),
    errors: samples.filter((r) => r.status !== 200 && r.status !== 202).length,
  }
}
