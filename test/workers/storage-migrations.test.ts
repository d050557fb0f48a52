/**
 * Versioned schema migrations of the Durable Object's SQLite
 * (src/adapters/workers/sqlite/migrations.ts `migrate`, run by the Relay constructor): a deployment
 * from before versioning is upgraded with nothing lost, a later migration keeps what was there,
 * and migrating again changes nothing.
 */
import { evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { SqlAuthStateRepo } from '../../src/adapters/workers/sqlite/auth-state-repo.ts'
import { SqlConsentRepo } from '../../src/adapters/workers/sqlite/consent-repo.ts'
import { SqlMetricsRepo } from '../../src/adapters/workers/sqlite/metrics-repo.ts'
import { migrate, SCHEMA_VERSION } from '../../src/adapters/workers/sqlite/migrations.ts'
import { SqlOutboxRepo } from '../../src/adapters/workers/sqlite/outbox-repo.ts'
import { SqlTokenRepo } from '../../src/adapters/workers/sqlite/token-repo.ts'
import { utcDay } from '../../src/core/lib/utc-day.ts'
import { refusalEvent, tallyOf } from '../../src/core/metrics/metrics.ts'
import { refusalDay } from '../../src/core/origins/refusals.ts'
import { clock } from '../support/edge.ts'
import { rowsOf, schemaOf } from '../support/sqlite-dump.ts'

/**
 * The schema every deployment had before versioning: the DDL of src/workers/sql-store.ts at
 * commit 921d3a4 (now migration 1 in src/adapters/workers/sqlite/migrations.ts), frozen here. Never
 * edit it: it stands for databases that exist.
 */
const UNVERSIONED_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS connection (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     record TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS oauth_states (
     state TEXT PRIMARY KEY,
     redirect_uri TEXT NOT NULL,
     code_verifier TEXT,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   )`,
  `CREATE TABLE IF NOT EXISTS outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     form_id TEXT NOT NULL,
     email_hash TEXT NOT NULL,
     payload TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     last_status INTEGER,
     last_error_key TEXT,
     last_error_message TEXT,
     last_error_at INTEGER,
     dead_at INTEGER
   )`,
  'CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)',
  'CREATE INDEX IF NOT EXISTS outbox_key ON outbox (form_id, email_hash)',
  `CREATE TABLE IF NOT EXISTS recent_submissions (
     key TEXT PRIMARY KEY,
     seen_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('delivered', 'queued'))
   )`,
  `CREATE TABLE IF NOT EXISTS daily_stats (
     day TEXT PRIMARY KEY,
     cc_requests INTEGER NOT NULL DEFAULT 0,
     delivered INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE IF NOT EXISTS delivery_blocks (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     paused_until INTEGER,
     parked_until INTEGER
   )`,
]

const LIST = '9e2f7d10-1111-4c3b-8e42-000000000001'
const RECEIPT = {
  form: 'newsletter',
  email: 'a@example.com',
  givenAt: 1_000,
  text: 'I agree.',
  textSha256: '0'.repeat(64),
  origin: null,
  page: null,
  network: '192.0.2.1',
}

const version = (sql: SqlStorage) =>
  sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()

/** Puts the object back where a deployment from before versioning is: those tables, no version. */
function recreateUnversioned(sql: SqlStorage): void {
  for (const { name } of schemaOf(sql).filter((entry) => entry.type === 'table')) {
    sql.exec(`DROP TABLE ${name}`)
  }
  for (const statement of UNVERSIONED_SCHEMA) sql.exec(statement)
}

describe('schema migrations', () => {
  it('a database from before versioning is adopted and upgraded with nothing lost', async () => {
    const relay = env.RELAY.getByName('upgrade-from-unversioned')
    const now = clock.now()
    const record = {
      state: 'connected',
      generation: 3,
      accessToken: 'access-before-upgrade',
      refreshToken: 'refresh-before-upgrade',
      expiresAt: now + 86_400_000,
      receivedAt: now,
      scope: 'contact_data offline_access',
      sub: 'owner-sub',
      connectedAt: now - 60_000,
    }
    const rowsBefore = await runInDurableObject(relay, (_relay, state) => {
      const sql = state.storage.sql
      recreateUnversioned(sql)
      sql.exec(
        'INSERT INTO connection (id, record, updated_at) VALUES (1, ?, ?)',
        JSON.stringify(record),
        now
      )
      sql.exec(
        `INSERT INTO oauth_states (state, redirect_uri, code_verifier, expires_at, used_at)
         VALUES ('state-before-upgrade', 'https://relay.test/oauth/callback', 'verifier', ?, NULL),
                ('used-before-upgrade', 'https://relay.test/oauth/callback', NULL, ?, ?)`,
        now + 600_000,
        now + 600_000,
        now - 1_000
      )
      const row = (email: string) =>
        JSON.stringify({ email_address: email, list_memberships: [LIST], first_name: 'Ada' })
      sql.exec(
        `INSERT INTO outbox (id, form_id, email_hash, payload, status, attempts, created_at,
           next_attempt_at, lease_until, last_status, last_error_key, last_error_message,
           last_error_at, dead_at)
         VALUES
           (1, 'newsletter', 'h-queued', ?, 'pending', 2, ?, ?,
            NULL, 503, 'unavailable', 'down', ?, NULL),
           (2, 'newsletter', 'h-inflight', ?, 'pending', 0, ?, ?,
            ?, NULL, NULL, NULL, NULL, NULL),
           (3, 'newsletter', 'h-refused', ?, 'dead', 1, ?, ?,
            NULL, 400, 'contacts.api.validation.error', 'bad list', ?, ?)`,
        row('queued@example.com'),
        now - 5_000,
        now + 3_600_000,
        now - 4_000,
        row('inflight@example.com'),
        now - 3_000,
        now - 3_000,
        now + 90_000,
        row('refused@example.com'),
        now - 2_000,
        now - 2_000,
        now - 1_000,
        now - 1_000
      )
      sql.exec(
        `INSERT INTO recent_submissions (key, seen_at, status)
         VALUES ('newsletter:h-queued', ?, 'queued')`,
        now - 5_000
      )
      sql.exec(
        'INSERT INTO daily_stats (day, cc_requests, delivered) VALUES (?, 17, 5)',
        utcDay(now)
      )
      sql.exec(
        'INSERT INTO delivery_blocks (id, paused_until, parked_until) VALUES (1, NULL, ?)',
        now + 3_600_000
      )
      expect(schemaOf(sql).map((entry) => entry.name)).not.toContain('schema_version')
      return rowsOf(sql)
    })

    // A new instance runs the constructor, and with it the migrations.
    await evictDurableObject(relay)

    const status = await relay.status()
    expect(status.state).toBe('connected')
    expect(status.connected).toBe(true)
    expect(status.outbox).toMatchObject({
      pending: 2,
      dead: 1,
      delivered_today: 5,
      quota_used_today: 17,
      parked_until: new Date(now + 3_600_000).toISOString(),
    })
    expect(await relay.deadLetters()).toEqual([
      {
        id: 3,
        kind: 'signup',
        form_id: 'newsletter',
        email_masked: 'r•••d@example.com',
        created_at: new Date(now - 2_000).toISOString(),
        dead_at: new Date(now - 1_000).toISOString(),
        error: { status: 400, error_key: 'contacts.api.validation.error', message: 'bad list' },
        attempts: 1,
        lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'],
      },
    ])
    expect(await relay.accessToken()).toEqual({
      ok: true,
      value: { token: 'access-before-upgrade', expiresAt: record.expiresAt },
    })

    const fresh = await runInDurableObject(env.RELAY.getByName('fresh-install'), (_r, state) =>
      schemaOf(state.storage.sql)
    )
    await runInDurableObject(relay, async (_relay, state) => {
      const sql = state.storage.sql
      expect(version(sql)).toEqual([{ version: SCHEMA_VERSION }])
      // The same schema as a fresh install, and every row as it was, except the lease: the new
      // instance released its predecessor's. Tables added since start empty.
      expect(schemaOf(sql)).toEqual(fresh)
      const { schema_version, outbox_counts, alerts, ...rowsAfter } = rowsOf(sql)
      // Tables that later migrations added start empty.
      const added = Object.keys(rowsAfter).filter((table) => !(table in rowsBefore))
      expect(rowsAfter).toEqual({
        ...Object.fromEntries(added.map((table) => [table, []])),
        ...rowsBefore,
        // Sign-ups queued before tags carry none.
        outbox: rowsBefore.outbox.map((row) => ({ ...row, lease_until: null, tags: null })),
        // Remembered before digests: unknown, so a repeat is sent rather than absorbed.
        recent_submissions: rowsBefore.recent_submissions.map((row) => ({ ...row, digest: null })),
      })
      // Migration 3 counted what was there; the triggers keep the counts from then on.
      expect(outbox_counts).toEqual([{ id: 1, pending: 2, dead: 1, backlog_level: 0 }])
      expect(alerts).toEqual([])
      // And the repos read it all back.
      expect(await new SqlTokenRepo(sql).load()).toEqual(record)
      const states = new SqlAuthStateRepo(sql)
      expect(await states.claim('state-before-upgrade', now)).toEqual({
        status: 'ok',
        pending: {
          state: 'state-before-upgrade',
          redirectUri: 'https://relay.test/oauth/callback',
          codeVerifier: 'verifier',
          expiresAt: now + 600_000,
        },
      })
      expect(await states.claim('used-before-upgrade', now)).toEqual({ status: 'used' })
      const outbox = new SqlOutboxRepo(sql)
      expect(await outbox.recentOutcome('newsletter:h-queued', now, 600_000)).toEqual({
        status: 'queued',
        digest: null,
      })
      const claimed = await outbox.claimDue(now + 3_600_000, 10, now + 3_690_000)
      expect(claimed.map((item) => [item.id, item.payload.email_address, item.attempts])).toEqual([
        [2, 'inflight@example.com', 0],
        [1, 'queued@example.com', 2],
      ])
      // AUTOINCREMENT carried on: a new item never reuses an id.
      const next = await outbox.enqueue(
        {
          formId: 'newsletter',
          emailHash: 'h-new',
          payload: { email_address: 'new@example.com', list_memberships: [LIST] },
          attempts: 0,
          nextAttemptAt: now,
          now,
        },
        5000
      )
      expect(next).toEqual({ outcome: 'stored', id: 4, backlog: 3 })
      expect((await outbox.figures(now)).pending).toBe(3)
      // Migration 7's receipts, with the triggers that count them per form.
      const consents = new SqlConsentRepo(sql)
      await consents.record(RECEIPT)
      expect(await consents.receiptsOf(RECEIPT.email)).toEqual([RECEIPT])
      expect(await consents.countsByForm()).toEqual({ newsletter: 1 })
      // Migration 10's refused origins.
      const metrics = new SqlMetricsRepo(sql)
      await metrics.count(tallyOf([refusalEvent('newsletter', 'https://www.example.com', now)]))
      expect(await metrics.refusals(0)).toEqual([
        {
          day: refusalDay(now),
          form: 'newsletter',
          origin: 'https://www.example.com',
          n: 1,
          lastAt: now,
        },
      ])
    })
  })

  it('migration 11 keeps the activity from before: each line a row, with no reason', async () => {
    const relay = env.RELAY.getByName('activity-before-reasons')
    await runInDurableObject(relay, async (_relay, state) => {
      const sql = state.storage.sql
      // The activity table as migration 6 made it, with a line in it, at version 10.
      sql.exec('ALTER TABLE activity DROP COLUMN reason')
      sql.exec('ALTER TABLE activity DROP COLUMN signup')
      sql.exec(
        `INSERT INTO activity (at, form_id, outcome, email_masked, latency_ms)
         VALUES (1000, 'newsletter', 'invalid_input', NULL, NULL)`
      )
      sql.exec('UPDATE schema_version SET version = 10')
      migrate(state.storage)
      expect(version(sql)).toEqual([{ version: SCHEMA_VERSION }])
      expect(await new SqlMetricsRepo(sql).activity({}, 10)).toEqual([
        {
          at: 1000,
          form: 'newsletter',
          outcome: 'invalid_input',
          email: null,
          latencyMs: null,
          reason: null,
          signup: null,
        },
      ])
    })
  })

  it('migrating again changes nothing', async () => {
    const relay = env.RELAY.getByName('migrate-twice')
    await runInDurableObject(relay, async (_relay, state) => {
      const sql = state.storage.sql
      const outbox = new SqlOutboxRepo(sql)
      await outbox.enqueue(
        {
          formId: 'newsletter',
          emailHash: 'h',
          payload: { email_address: 'a@example.com', list_memberships: [LIST] },
          attempts: 1,
          nextAttemptAt: 1_000,
          now: 1_000,
        },
        5000
      )
      await outbox.remember('newsletter:h', 1_000, { status: 'queued', digest: 'd' })
      await new SqlConsentRepo(sql).record(RECEIPT)
      const before = { schema: schemaOf(sql), rows: rowsOf(sql) }
      expect(version(sql)).toEqual([{ version: SCHEMA_VERSION }])
      migrate(state.storage)
      migrate(state.storage)
      expect({ schema: schemaOf(sql), rows: rowsOf(sql) }).toEqual(before)
    })
  })
})
