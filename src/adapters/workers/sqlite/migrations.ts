/**
 * @module adapters/workers/sqlite/migrations
 * The Durable Object's SQLite schema (the tables are documented in docs/storage.md): the
 * migrations in order, and `migrate`, which `sqlStores` runs in the Durable Object's constructor.
 */

/**
 * The schema, one entry per version: migration n takes the database from version n - 1 to n.
 * `migrate` runs the pending ones in order, each in one transaction with its bump of
 * `schema_version`, so a migration that fails leaves nothing behind and the next start retries
 * it. To change the schema, append a migration here (and document it in docs/storage.md); never
 * edit one that has shipped: deployments past it would never see the edit.
 */
const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: the schema as it was before versioning (up to commit 921d3a4), byte for byte, so fresh and
  //    adopted databases read the same. IF NOT EXISTS throughout: a deployment that has these
  //    tables but no version row is adopted as is, data and all.
  [
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
  ],
  // 2: pending items by store-rules.ts `dueAt`, the order claimDue takes them in (as Deno KV's
  //    outbox_due keys do). SQLite uses an index on an expression only for queries that spell
  //    it the same way: DUE_AT below.
  [
    'DROP INDEX outbox_due',
    'CREATE INDEX outbox_due ON outbox (status, MAX(next_attempt_at, COALESCE(lease_until, 0)))',
  ],
  // 3: running counts of pending and dead items, kept by triggers in the very statement that
  //    inserts, deletes or changes an item's status (store-rules.ts `countChange` in SQL), so
  //    /healthz and /admin/status never count rows; the backlog alarm's level beside them; the
  //    oldest pending item by index; the digest of what a remembered sign-up said (the duplicate
  //    window absorbs only a repeat that says the same); the alert coalescing records.
  [
    `CREATE TABLE outbox_counts (id INTEGER PRIMARY KEY CHECK (id = 1), pending INTEGER NOT NULL,
dead INTEGER NOT NULL, backlog_level INTEGER NOT NULL DEFAULT 0)`,
    `INSERT INTO outbox_counts (id, pending, dead)
SELECT 1, COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'dead'), 0) FROM outbox`,
    `CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN UPDATE outbox_counts
SET pending = pending + (NEW.status = 'pending'), dead = dead + (NEW.status = 'dead'); END`,
    `CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN UPDATE outbox_counts
SET pending = pending - (OLD.status = 'pending'), dead = dead - (OLD.status = 'dead'); END`,
    `CREATE TRIGGER outbox_counts_status AFTER UPDATE OF status ON outbox
WHEN OLD.status <> NEW.status BEGIN UPDATE outbox_counts
SET pending = pending + (NEW.status = 'pending') - (OLD.status = 'pending'),
dead = dead + (NEW.status = 'dead') - (OLD.status = 'dead'); END`,
    'CREATE INDEX outbox_pending_since ON outbox (status, created_at)',
    'ALTER TABLE recent_submissions ADD COLUMN digest TEXT',
    'CREATE TABLE alerts (event TEXT PRIMARY KEY, record TEXT NOT NULL)',
  ],
  // 4: the owner's sessions (revocable: sign-out deletes the row) and failed sign-ins per client
  //    network (sign-in-rules.ts), each with an index for its purge.
  [
    `CREATE TABLE owner_sessions (
     id TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   )`,
    'CREATE INDEX owner_sessions_expiry ON owner_sessions (expires_at)',
    `CREATE TABLE signin_failures (
     client TEXT PRIMARY KEY,
     failures TEXT NOT NULL,
     last_at INTEGER NOT NULL
   )`,
    'CREATE INDEX signin_failures_last ON signin_failures (last_at)',
  ],
  // 5: forms made in the dashboard, and their audit trail. A form's revision is the audit row
  //    that wrote it: AUTOINCREMENT never reuses a number, even after the trail is trimmed, so a
  //    revision names one version of one form, ever (a deleted and re-made form included).
  [
    `CREATE TABLE forms (
     id TEXT PRIMARY KEY,
     profile TEXT NOT NULL,
     field_types TEXT NOT NULL,
     revision INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
    `CREATE TABLE form_audit (
     revision INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
     changes TEXT NOT NULL
   )`,
  ],
  // 6: the owner's metrics (metrics.ts): counters per hour and form, the recent activity, and
  //    the connection's history. Small tables: counters are kept 90 days, activity and history
  //    are capped (ACTIVITY_KEPT, HISTORY_KEPT).
  [
    `CREATE TABLE metrics (
     hour INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     name TEXT NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (hour, form_id, name)
   ) WITHOUT ROWID`,
    `CREATE TABLE activity (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     email_masked TEXT,
     latency_ms INTEGER
   )`,
    `CREATE TABLE connection_history (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     event TEXT NOT NULL,
     state TEXT NOT NULL,
     code TEXT
   )`,
  ],
  // 7: consent receipts (core/consent/). Each statement's text once per version, by its SHA-256;
  //    receipts refer to it by the text's row id (a few bytes instead of 64), and are found by
  //    address (lookup, erasure), by time (the export, retention) and by text (whether a text is
  //    still referred to). The count per form is kept by triggers, as outbox_counts is, so the
  //    dashboard never counts rows.
  [
    `CREATE TABLE consent_texts (
     id INTEGER PRIMARY KEY,
     sha256 TEXT NOT NULL UNIQUE,
     text TEXT NOT NULL
   )`,
    `CREATE TABLE consent_receipts (
     id INTEGER PRIMARY KEY,
     form_id TEXT NOT NULL,
     email TEXT NOT NULL,
     given_at INTEGER NOT NULL,
     text_id INTEGER NOT NULL REFERENCES consent_texts (id),
     origin TEXT,
     page TEXT,
     network TEXT NOT NULL
   )`,
    'CREATE INDEX consent_receipts_email ON consent_receipts (email, given_at)',
    'CREATE INDEX consent_receipts_given ON consent_receipts (given_at)',
    'CREATE INDEX consent_receipts_text ON consent_receipts (text_id)',
    `CREATE TABLE consent_counts (
     form_id TEXT PRIMARY KEY,
     receipts INTEGER NOT NULL
   ) WITHOUT ROWID`,
    `CREATE TRIGGER consent_counts_insert AFTER INSERT ON consent_receipts BEGIN
INSERT INTO consent_counts (form_id, receipts) VALUES (NEW.form_id, 1)
ON CONFLICT (form_id) DO UPDATE SET receipts = receipts + 1; END`,
    `CREATE TRIGGER consent_counts_delete AFTER DELETE ON consent_receipts BEGIN
UPDATE consent_counts SET receipts = receipts - 1 WHERE form_id = OLD.form_id; END`,
  ],
  // 8: tags (core/tagging/). The form's tags
  //    on a queued sign-up, JSON (NULL: none, as on every row from before); and the taggings
  //    delivered sign-ups leave, pending or dead, with an index for due taggings, one for a tag
  //    set's batch (both on store-rules.ts `dueAt`, spelled as DUE_AT), and one for dead letters.
  [
    'ALTER TABLE outbox ADD COLUMN tags TEXT',
    `CREATE TABLE taggings (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     form_id TEXT NOT NULL,
     contact_id TEXT NOT NULL,
     tag_ids TEXT NOT NULL,
     tag_key TEXT NOT NULL,
     email_masked TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     last_error TEXT,
     dead_at INTEGER
   )`,
    'CREATE INDEX taggings_due ON taggings (status, MAX(next_attempt_at, COALESCE(lease_until, 0)))',
    `CREATE INDEX taggings_batch ON taggings
     (status, tag_key, MAX(next_attempt_at, COALESCE(lease_until, 0)))`,
    'CREATE INDEX taggings_dead ON taggings (status, dead_at)',
  ],
  // 9: signed webhooks (core/webhooks/). The owner's endpoints, with their running `pending` and
  //    `dropped` counts and health; the events waiting for each (due per endpoint, on DUE_AT); and
  //    the log of attempts (the last 50 per endpoint are kept).
  [
    `CREATE TABLE webhook_endpoints (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     events TEXT NOT NULL,
     forms TEXT,
     secret TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     failing_since INTEGER,
     disabled_at INTEGER,
     last_delivery TEXT,
     pending INTEGER NOT NULL DEFAULT 0,
     dropped INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID`,
    `CREATE TABLE webhook_deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     endpoint_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     type TEXT NOT NULL,
     body TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER
   )`,
    `CREATE INDEX webhook_deliveries_due ON webhook_deliveries
     (endpoint_id, MAX(next_attempt_at, COALESCE(lease_until, 0)))`,
    `CREATE TABLE webhook_attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     endpoint_id TEXT NOT NULL,
     attempt TEXT NOT NULL
   )`,
    'CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id)',
  ],
  // 10: refused origins (core/origins/refusals.ts): per UTC day, form and origin, at most 20
  //    origins per form and day plus the sum of the rest (origin ''), kept as long as the
  //    metrics. The key is the range a day's read and the cron's purge take.
  [
    `CREATE TABLE refused_origins (
     day INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     n INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     PRIMARY KEY (day, form_id, origin)
   ) WITHOUT ROWID`,
  ],
  // 11: an activity line's reason (a refusal's field and check, CC's answer) and the outbox item
  //     it is about, so the owner's page shows a queued sign-up's lines as one row
  //     (core/metrics/signups.ts). Lines from before have neither: each stays a row of its own.
  ['ALTER TABLE activity ADD COLUMN reason TEXT', 'ALTER TABLE activity ADD COLUMN signup INTEGER'],
]

/** The version `migrate` brings the database to. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * store-rules.ts `dueAt` in SQL, spelled exactly as in the outbox_due index (migration 2), the
 * taggings_due and taggings_batch indexes (migration 8) and webhook_deliveries_due (migration 9).
 */
export const DUE_AT = 'MAX(next_attempt_at, COALESCE(lease_until, 0))'

/**
 * Brings the schema to SCHEMA_VERSION; runs in the object's constructor, before any request.
 * The version lives in a one-row table: Durable Objects do not allow `PRAGMA user_version`.
 */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql
  sql.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
  )`)
  const current =
    sql.exec<{ version: number }>('SELECT version FROM schema_version WHERE id = 1').toArray()[0]
      ?.version ?? 0
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    storage.transactionSync(() => {
      for (const statement of MIGRATIONS[version - 1]) sql.exec(statement)
      sql.exec(
        `INSERT INTO schema_version (id, version) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
        version
      )
    })
  }
  // A new instance is the only object, so nothing its predecessor leased is still in flight.
  // Those items (and taggings) are due again now rather than when the lease lapses.
  sql.exec('UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL')
  sql.exec('UPDATE taggings SET lease_until = NULL WHERE lease_until IS NOT NULL')
  sql.exec('UPDATE webhook_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL')
}
