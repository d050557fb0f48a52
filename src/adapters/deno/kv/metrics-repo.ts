/**
 * @module adapters/deno/kv/metrics-repo
 * The owner's metrics, recent activity, refused origins and connection history, as the dashboard
 * reads them, in Deno KV.
 */

import { type ConnectionHistoryEntry, HISTORY_KEPT } from '../../../core/connection/history.ts'
import {
  ACTIVITY_KEPT,
  type ActivityEntry,
  type CounterRow,
  dayOf,
  type Span,
  type Tally,
} from '../../../core/metrics/metrics.ts'
import type { ActivityFilter, MetricsRepo } from '../../../core/metrics/repo.ts'
import { addToDay, type RefusalCount, type RefusalDay } from '../../../core/origins/refusals.ts'
import { addTally, CONFLICT, collect, deleteKeys, transact } from './transact.ts'

/** One form's refused origins on one UTC day: a single value, so its bound is one check. */
type StoredRefusals = { origin: string; n: number; lastAt: number }[]
const refusalsKey = (day: number, form: string): Deno.KvKey => ['refused_origins', day, form]

export class KvMetricsRepo implements MetricsRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  count(tally: Tally): Promise<void> {
    return transact(async () => {
      const op = addTally(this.#kv.atomic(), tally)
      await this.#addRefusals(op, tally.refusals ?? [])
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }

  /** Each form's day is read, added to (refusals.ts `addToDay`) and written, checked. */
  async #addRefusals(op: Deno.AtomicOperation, refusals: readonly RefusalCount[]): Promise<void> {
    const days = Map.groupBy(refusals, (r) => `${r.day}|${r.form}`)
    for (const [first, ...rest] of days.values()) {
      const key = refusalsKey(first.day, first.form)
      const entry = await this.#kv.get<StoredRefusals>(key)
      const day: RefusalDay = new Map(
        (entry.value ?? []).map(({ origin, n, lastAt }) => [origin, { n, lastAt }])
      )
      for (const r of [first, ...rest]) addToDay(day, r.origin, r.n, r.lastAt)
      const value: StoredRefusals = [...day].map(([origin, { n, lastAt }]) => ({
        origin,
        n,
        lastAt,
      }))
      op.check(entry).set(key, value)
    }
  }

  async refusals(since: number): Promise<RefusalCount[]> {
    const prefix = ['refused_origins']
    const days = await collect(this.#kv.list<StoredRefusals>({ prefix, start: [...prefix, since] }))
    return days.flatMap(({ key, value }) => {
      const [, day, form] = key as [string, number, string]
      return value.map(({ origin, n, lastAt }) => ({ day, form, origin, n, lastAt }))
    })
  }

  async counters(span: Span, from: number, to: number): Promise<CounterRow[]> {
    const entries = this.#kv.list<Deno.KvU64>({ start: ['metrics', from], end: ['metrics', to] })
    const rows: CounterRow[] = []
    for await (const { key, value } of entries) {
      const [, hour, form, name] = key as [string, number, string, string]
      rows.push({ start: span === 'hour' ? hour : dayOf(hour), form, name, n: Number(value.value) })
    }
    return rows
  }

  async activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]> {
    const lines = await collect(
      this.#kv.list<ActivityEntry>(
        { prefix: ['activity'] },
        { reverse: true, limit: ACTIVITY_KEPT }
      )
    )
    return (
      lines
        // Lines from before reasons and links have neither.
        .map((e) => ({
          ...e.value,
          reason: e.value.reason ?? null,
          signup: e.value.signup ?? null,
        }))
        .filter((a) => !filter.form || a.form === filter.form)
        .slice(0, limit)
    )
  }

  async connectionHistory(since: number): Promise<ConnectionHistoryEntry[]> {
    const prefix = ['connection_history']
    const list = (selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
      collect(this.#kv.list<ConnectionHistoryEntry>(selector, options))
    const before = await list({ prefix, end: [...prefix, since] }, { reverse: true, limit: 1 })
    const after = await list({ prefix, start: [...prefix, since] })
    return [...before, ...after].map((e) => e.value)
  }

  /** Keys are listed and deleted in batches: this runs in the cron, never on a sign-up. */
  async purgeMetrics(before: number): Promise<void> {
    const keys = async (selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
      (await collect(this.#kv.list(selector, options))).map((e) => e.key)
    const old = [
      ...(await keys({ prefix: ['metrics'], end: ['metrics', before] })),
      ...(await keys({ prefix: ['activity'], end: ['activity', before] })),
      ...(await keys({ prefix: ['connection_history'], end: ['connection_history', before] })),
      ...(await keys({ prefix: ['activity'] }, { reverse: true })).slice(ACTIVITY_KEPT),
      ...(await keys({ prefix: ['connection_history'] }, { reverse: true })).slice(HISTORY_KEPT),
      // A form's day goes once its last refusal is before the cutoff, as a SQLite row does.
      ...(
        await collect(
          this.#kv.list<StoredRefusals>({
            prefix: ['refused_origins'],
            end: ['refused_origins', before],
          })
        )
      )
        .filter((e) => e.value.every((r) => r.lastAt < before))
        .map((e) => e.key),
    ]
    await deleteKeys(this.#kv, [...new Map(old.map((k) => [JSON.stringify(k), k])).values()])
  }
}
