/**
 * @module core/forms/repo
 * Storage interface for forms made in the dashboard and their audit trail. Both adapters implement
 * it atomically; docs/storage.md describes what is kept.
 */
import type { FieldTypes } from '../cc/field-types.ts'
import type { FormProfile } from './profile.ts'

/** A form made in the dashboard (forms.ts), as stored. */
export interface StoredForm {
  id: string
  profile: FormProfile
  /** CC's types of its custom fields when it was saved, by lower-cased id (field-types.ts). */
  types: FieldTypes
  /** The revision of the change that wrote it: revisions only grow, over all forms. */
  revision: number
  updatedAt: number
}

/** One line of the dashboard's audit trail. */
export interface FormAuditEntry {
  revision: number
  at: number
  formId: string
  action: 'created' | 'updated' | 'deleted'
  /** What changed, one line each (forms.ts `describeChanges`). */
  changes: string[]
}

/** A write to a form, with its audit entry. */
export interface FormChange {
  formId: string
  /** The form's new contents; null deletes it. */
  form: { profile: FormProfile; types: FieldTypes } | null
  action: FormAuditEntry['action']
  changes: string[]
  at: number
}

/** Storage for the dashboard's forms and their audit trail (docs/storage.md). */
export interface FormRepo {
  get(id: string): Promise<StoredForm | null>
  /** Ordered by id. */
  list(): Promise<StoredForm[]>
  /**
   * Writes the form (or deletes it) and its audit entry in one atomic step, at the next revision,
   * which it returns; then keeps only the newest FORM_AUDIT_KEEP entries (store-rules.ts).
   */
  write(change: FormChange): Promise<number>
  /** Newest first. */
  audit(limit: number): Promise<FormAuditEntry[]>
}
