/**
 * @module adapters/workers/sqlite/form-repo
 * Forms made in the dashboard and their audit trail (`forms`, `form_audit`) in the Durable
 * Object's SQLite.
 */

import type { FormAuditEntry, FormChange, FormRepo, StoredForm } from '../../../core/forms/repo.ts'
import { FORM_AUDIT_KEEP } from '../../../core/relay/store-rules.ts'

type FormRow = {
  id: string
  profile: string
  field_types: string
  revision: number
  updated_at: number
}

type AuditRow = { revision: number; at: number; form_id: string; action: string; changes: string }

export class SqlFormRepo implements FormRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #forms(where: string, ...params: SqlStorageValue[]): StoredForm[] {
    return this.#sql
      .exec<FormRow>(`SELECT * FROM forms ${where}`, ...params)
      .toArray()
      .map((row) => ({
        id: row.id,
        profile: JSON.parse(row.profile),
        types: JSON.parse(row.field_types),
        revision: row.revision,
        updatedAt: row.updated_at,
      }))
  }

  async get(id: string): Promise<StoredForm | null> {
    return this.#forms('WHERE id = ?', id)[0] ?? null
  }

  async list(): Promise<StoredForm[]> {
    return this.#forms('ORDER BY id')
  }

  /** Synchronous statements: one step of the object, committed together. */
  async write(change: FormChange): Promise<number> {
    const { revision } = this.#sql
      .exec<{ revision: number }>(
        'INSERT INTO form_audit (at, form_id, action, changes) VALUES (?, ?, ?, ?) RETURNING revision',
        change.at,
        change.formId,
        change.action,
        JSON.stringify(change.changes)
      )
      .one()
    if (change.form) {
      this.#sql.exec(
        `INSERT INTO forms (id, profile, field_types, revision, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET profile = excluded.profile,
           field_types = excluded.field_types, revision = excluded.revision,
           updated_at = excluded.updated_at`,
        change.formId,
        JSON.stringify(change.form.profile),
        JSON.stringify(change.form.types),
        revision,
        change.at
      )
    } else {
      this.#sql.exec('DELETE FROM forms WHERE id = ?', change.formId)
    }
    this.#sql.exec('DELETE FROM form_audit WHERE revision <= ?', revision - FORM_AUDIT_KEEP)
    return revision
  }

  async audit(limit: number): Promise<FormAuditEntry[]> {
    return this.#sql
      .exec<AuditRow>('SELECT * FROM form_audit ORDER BY revision DESC LIMIT ?', limit)
      .toArray()
      .map((row) => ({
        revision: row.revision,
        at: row.at,
        formId: row.form_id,
        action: row.action as FormAuditEntry['action'],
        changes: JSON.parse(row.changes),
      }))
  }
}
