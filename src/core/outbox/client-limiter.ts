/**
 * @module core/outbox/client-limiter
 * The per-client sign-up limit (SUBMIT_RATE_LIMIT_PER_MINUTE = N) per network (network-key.ts):
 * bursts of N, refilled one every 60/N seconds (GCRA). `admitHit` is the pure rule;
 * `MemoryClientLimiter` keeps it in the Durable Object's memory (a restart forgives), and Deno
 * keeps it in KV so all instances share it (adapters/deno/kv-limits.ts).
 */

const WINDOW_MS = 60_000

export interface ClientLimiter {
  /** Counts a sign-up from `key` at `now`: 0 when allowed, else the whole seconds to wait. */
  hit(key: string, now: number, perMinute: number): Promise<number>
}

export type HitVerdict = { allowed: true; fullAt: number } | { allowed: false; retryAfter: number }

/** One sign-up against a budget that is full again at `fullAt` (null: never seen). */
export function admitHit(fullAt: number | null, now: number, perMinute: number): HitVerdict {
  const next = Math.max(fullAt ?? now, now) + WINDOW_MS / perMinute
  if (next - now <= WINDOW_MS) return { allowed: true, fullAt: next }
  return { allowed: false, retryAfter: Math.max(1, Math.ceil((next - now - WINDOW_MS) / 1000)) }
}

/**
 * Networks remembered at most. Past it the network quiet longest is forgotten (it gets a full
 * budget back), one at a time, never everyone's at once; to make an active network forgotten
 * within its minute, a client would need this many other networks in that minute.
 */
export const MAX_NETWORKS = 50_000

export class MemoryClientLimiter implements ClientLimiter {
  /** `fullAt` per network key, in the order of each key's last hit (the stalest first). */
  readonly #fullAt = new Map<string, number>()

  get size(): number {
    return this.#fullAt.size
  }

  async hit(key: string, now: number, perMinute: number): Promise<number> {
    const verdict = admitHit(this.#fullAt.get(key) ?? null, now, perMinute)
    if (!verdict.allowed) return verdict.retryAfter
    // Re-inserting moves the key to the end: the Map's first key is the one quiet longest.
    this.#fullAt.delete(key)
    this.#fullAt.set(key, verdict.fullAt)
    for (const [stalest, fullAt] of this.#fullAt) {
      // Expired budgets go as they are met; past the bound, the stalest goes regardless.
      if (fullAt > now && this.#fullAt.size <= MAX_NETWORKS) break
      this.#fullAt.delete(stalest)
    }
    return 0
  }
}
