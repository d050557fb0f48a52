/** What a Durable Object's SQLite holds, for tests that compare or search all of it. */

/** Our tables, indexes and their DDL (SQLite's own and Cloudflare's `_cf_` tables left out). */
export function schemaOf(sql: SqlStorage): { type: string; name: string; sql: string | null }[] {
  return sql
    .exec<{ type: string; name: string; sql: string | null }>(
      `SELECT type, name, sql FROM sqlite_master
       WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'
       ORDER BY type, name`
    )
    .toArray()
}

/** Every row of every one of our tables, keyed by table name. */
export function rowsOf(sql: SqlStorage): Record<string, Record<string, SqlStorageValue>[]> {
  return Object.fromEntries(
    schemaOf(sql)
      .filter((entry) => entry.type === 'table')
      .map(({ name }) => [name, sql.exec(`SELECT * FROM ${name}`).toArray()])
  )
}
