/**
 * O(1) health and status (issue #13 item 3): /healthz and /admin/status read running counts, kept
 * in the same statement as the rows they count (migration 3's triggers), and never scan the
 * outbox. Measured with SQLite's own count of the rows each statement read (`rowsRead`).
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { RelayStatus } from '../src/core/service.ts'
import { SqlOutboxRepo } from '../src/workers/sql-store.ts'
import { clock } from './edge.ts'
import { call, connect, relay } from './helpers.ts'
import { LIST_1 } from './support/network.ts'

const ERROR = { status: 400, errorKey: 'bad', message: 'bad', at: 0 }

/** Rows SQLite read for every statement `run` executes on `sql`, and what `run` returned. */
async function rowsReadBy<T>(sql: SqlStorage, run: () => Promise<T>): Promise<[number, T]> {
  const exec = sql.exec
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = []
  sql.exec = ((query: string, ...params: SqlStorageValue[]) => {
    const cursor = exec.call(sql, query, ...params)
    cursors.push(cursor)
    return cursor
  }) as typeof sql.exec
  try {
    const result = await run()
    return [cursors.reduce((sum, c) => sum + c.rowsRead, 0), result]
  } finally {
    sql.exec = exec
  }
}

/** Adds `pending` queued items and `dead` dead letters to the main object's outbox. */
function fill(pending: number, dead: number) {
  return runInDurableObject(relay(), async (_r, state) => {
    const outbox = new SqlOutboxRepo(state.storage.sql)
    const now = clock.now()
    for (let i = 0; i < pending + dead; i++) {
      const email = `count${i}-${now}@example.com`
      const payload = { email_address: email, list_memberships: [LIST_1] }
      const item = { formId: 'newsletter', emailHash: email, payload, attempts: 0, now }
      // Due in an hour: the status reads below must not depend on a drain.
      const stored = await outbox.enqueue({ ...item, nextAttemptAt: now + 3_600_000 }, 1e9)
      if (i >= pending && stored.outcome === 'stored')
        await outbox.kill({ id: stored.id, formId: 'newsletter', payload }, ERROR, now)
    }
  })
}

/** Rows read by the object's status() (what /healthz and /admin/status call). */
function statusRowsRead(): Promise<[number, RelayStatus]> {
  return runInDurableObject(relay(), (instance, state) =>
    rowsReadBy(state.storage.sql, () => instance.status())
  )
}

describe('running counts', () => {
  it('status reads the same few rows with 3,000 items as with none', async () => {
    expect((await connect()).status).toBe(303)
    const [emptyRows, empty] = await statusRowsRead()
    expect([empty.outbox.pending, empty.outbox.dead]).toEqual([0, 0])
    await fill(2_950, 50)
    const [fullRows, full] = await statusRowsRead()
    expect([full.outbox.pending, full.outbox.dead]).toEqual([2_950, 50])
    expect(full.outbox.oldest_pending_age_seconds).toBe(0)
    expect(fullRows).toBe(emptyRows)
    expect(fullRows).toBeLessThan(20)
    // And the routes answer from them.
    expect(await (await call('/healthz')).json()).toEqual({ ok: true, connected: true })
  })

  it('the counts follow rows written outside the repos too (the triggers count every row)', async () => {
    const before = (await statusRowsRead())[1].outbox
    await runInDurableObject(relay(), (_r, state) => {
      const sql = state.storage.sql
      sql.exec(
        `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
         VALUES ('newsletter', 'h-raw', '{}', 'pending', 0, 0, 0)`
      )
      sql.exec(`UPDATE outbox SET status = 'dead', dead_at = 1 WHERE email_hash = 'h-raw'`)
      sql.exec(`DELETE FROM outbox WHERE status = 'pending' AND id IN
                  (SELECT id FROM outbox WHERE status = 'pending' LIMIT 100)`)
    })
    const after = (await statusRowsRead())[1].outbox
    expect([after.pending, after.dead]).toEqual([before.pending - 100, before.dead + 1])
  })
})

describe('the outbox_pending_since index', () => {
  it('finds the oldest pending item by a seek, not a scan', async () => {
    const plan = await runInDurableObject(relay(), (_r, state) =>
      state.storage.sql
        .exec<{ detail: string }>(
          `EXPLAIN QUERY PLAN SELECT MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'`
        )
        .toArray()
        .map((row) => row.detail)
        .join('; ')
    )
    expect(plan).toContain('outbox_pending_since')
    expect(plan).not.toMatch(/SCAN outbox(?! USING)/)
  })
})
