/**
 * @module core/metrics/outcome-recorder
 * Counts the outcomes the app decides before any `submit()` (invalid_input, honeypot,
 * challenge_failed, origin_not_allowed, and the refused origins themselves, origins/refusals.ts)
 * without a Durable Object write per junk request: each
 * isolate sums them in memory and sends the sum at most every 5 s, after the answer has left
 * (`waitUntil` on Workers). Counts may arrive late, and are lost if the isolate dies
 * (docs/storage.md).
 */
import type { Context } from 'hono'
import { RefusalSums } from '../origins/refusals.ts'
import type { RelayBackend } from '../relay/backend.ts'
import type { ActivityEntry, Count, EventSink, MetricEvent, Tally } from './metrics.ts'
import { tallyOf } from './metrics.ts'

export const FLUSH_DELAY_MS = 5000
/** A junk flood would fill the activity anyway; a batch carries its newest lines only. */
const ACTIVITY_PER_FLUSH = 20

/** `ExecutionContext.waitUntil` of the request that recorded (absent on Deno). */
export type KeepAlive = (work: Promise<unknown>) => void

/** The request's waitUntil on Workers; undefined where there is none (Deno). */
export function keepAliveOf(c: Context): KeepAlive | undefined {
  try {
    const ctx = c.executionCtx
    return (work) => ctx.waitUntil(work)
  } catch {
    return undefined
  }
}

/** How long an owner's read waits, at most, for the sends of other requests to land. */
const WAIT_FOR_OTHERS_MS = 2000

/**
 * On Workers each request has its own I/O context, and an I/O object (a timer, an RPC's promise)
 * of one request must not be touched by another. So the scheduled send runs in the request that
 * scheduled it, and is never cancelled or awaited by another: a reader waits for it through a
 * counter and its own timer.
 */
export class OutcomeRecorder {
  readonly #backend: () => RelayBackend
  readonly #observe?: EventSink
  #counts = new Map<string, Count>()
  #activity: ActivityEntry[] = []
  /** Bounded per form and day as stored (a flood of made-up origins stays 21 entries a form). */
  #refusals = new RefusalSums()
  #timer: ReturnType<typeof setTimeout> | undefined
  /** Ends the scheduled send's wait early (close()). */
  #wake: (() => void) | undefined
  /** Sends under way, from any request. */
  #sending = 0

  constructor(deps: { backend: () => RelayBackend; observe?: EventSink }) {
    this.#backend = deps.backend
    this.#observe = deps.observe
  }

  record(event: MetricEvent, keepAlive?: KeepAlive): void {
    this.#observe?.(event)
    this.#merge(tallyOf([event]))
    if (this.#timer !== undefined) return
    // Real time on purpose: this paces writes to the object, it is not a policy of the relay.
    const due = new Promise<void>((resolve) => {
      this.#wake = resolve
      this.#timer = setTimeout(resolve, FLUSH_DELAY_MS)
    })
    const sent = due.then(() => {
      this.#timer = undefined
      this.#wake = undefined
      return this.#send()
    })
    keepAlive?.(sent)
  }

  /**
   * For a reader (the owner's pages): sends what is held now, from the caller's request, then
   * waits for sends already under way elsewhere to land, so the read that follows sees them.
   */
  async flush(): Promise<void> {
    await this.#send()
    for (let waited = 0; this.#sending > 0 && waited < WAIT_FOR_OTHERS_MS; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** At shutdown (Deno): the scheduled send now, and no timer left behind. */
  close(): Promise<void> {
    clearTimeout(this.#timer)
    this.#wake?.()
    return this.flush()
  }

  async #send(): Promise<void> {
    const counts = [...this.#counts.values()]
    const activity = this.#activity
    const refusals = this.#refusals.counts()
    if (counts.length === 0) return
    this.#counts = new Map()
    this.#activity = []
    this.#refusals = new RefusalSums()
    this.#sending++
    try {
      await this.#backend().countOutcomes({ counts, activity, refusals })
    } catch (err) {
      // Kept for the next send (bounded: a few keys per form and hour).
      const newer = this.#activity
      this.#activity = activity
      this.#merge({ counts, activity: newer, refusals })
      console.error(JSON.stringify({ msg: 'metrics_flush_failed', error: String(err) }))
    } finally {
      this.#sending--
    }
  }

  #merge({ counts, activity, refusals = [] }: Tally): void {
    for (const c of counts) {
      const key = `${c.hour}|${c.form}|${c.name}`
      const held = this.#counts.get(key)
      this.#counts.set(key, { ...c, n: c.n + (held?.n ?? 0) })
    }
    this.#activity = [...this.#activity, ...activity].slice(-ACTIVITY_PER_FLUSH)
    for (const r of refusals) this.#refusals.add(r)
  }
}
