/**
 * @module deno
 * The Deno entry: `deno serve src/deno.ts` (docs/deno.md). Same routes, settings and guarantees
 * as on Workers, with Deno KV instead of a Durable Object, Deno.cron as the watchdog and a KV queue
 * for wake-ups. DENO_KV_PATH names a local KV file; unset, Deno.openKv() uses its default (on Deno
 * Deploy, the app's shared KV).
 */

import { migrate } from './adapters/deno/kv/migrations.ts'
import { createDenoRelay } from './adapters/deno/relay.ts'
import { sandboxKit } from './sandbox/kit.ts'

const env = Deno.env.toObject()
const kv = await Deno.openKv(env.DENO_KV_PATH || undefined)
await migrate(kv)
// The sandbox comes along: CTCT_SANDBOX turns it on, and only on a loopback listener.
const relay = createDenoRelay({ kv, env, sandbox: sandboxKit })
const stopping = new AbortController()

// Registered at the top level: Deno Deploy only discovers crons and queue listeners there. A
// platform without one of them still works: requests refresh the token when it is due, and the
// in-process timer drains the outbox; /admin shows what is pending.
const cronUnavailable = (err: unknown) =>
  console.error(JSON.stringify({ msg: 'cron_unavailable', error: String(err) }))
try {
  Deno.cron('ctct-relay refresh and drain', '*/15 * * * *', { signal: stopping.signal }, () =>
    relay.tick()
  ).catch(cronUnavailable)
} catch (err) {
  cronUnavailable(err)
}
const listening = kv.listenQueue(relay.onQueueMessage).catch((err) => {
  console.error(JSON.stringify({ msg: 'queue_unavailable', error: String(err) }))
})

/**
 * On SIGTERM `deno serve` stops accepting and lets in-flight requests finish, but the cron and
 * the queue listener would keep the process alive forever (systemd or `docker stop` would have to
 * kill it). Stop them too, once the work in flight is done, so the process exits by itself.
 */
try {
  Deno.addSignalListener('SIGTERM', async () => {
    // A second SIGTERM (a supervisor repeating itself) must not close the store twice.
    if (stopping.signal.aborted) return
    stopping.abort()
    await relay.settle()
    kv.close()
    await listening
  })
} catch {
  // No signals here (Deno Deploy): the platform stops isolates itself.
}

export default { fetch: relay.fetch, onListen: relay.onListen } satisfies Deno.ServeDefaultExport
