/**
 * @module adapters/deno/kv/form-repo
 * Forms made in the dashboard and their audit trail in Deno KV.
 */

import type { FormAuditEntry, FormChange, FormRepo, StoredForm } from '../../../core/forms/repo.ts'
import { FORM_AUDIT_KEEP } from '../../../core/relay/store-rules.ts'
import { audit, FORM_SEQ, form } from './keys.ts'
import { CONFLICT, collect, transact } from './transact.ts'

export class KvFormRepo implements FormRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async get(id: string): Promise<StoredForm | null> {
    return (await this.#kv.get<StoredForm>(form(id))).value
  }

  async list(): Promise<StoredForm[]> {
    return (await collect(this.#kv.list<StoredForm>({ prefix: ['form'] }))).map((e) => e.value)
  }

  /**
   * The check on ['form_seq'] serialises every write (as ['outbox_seq'] does inserts): a revision
   * is handed out once, and a form is written with the audit entry that describes it. Dropping
   * the entry FORM_AUDIT_KEEP revisions back on each write keeps the newest ones.
   */
  write(change: FormChange): Promise<number> {
    return transact(async () => {
      const seq = await this.#kv.get<number>(FORM_SEQ)
      const revision = (seq.value ?? 0) + 1
      const entry: FormAuditEntry = {
        revision,
        at: change.at,
        formId: change.formId,
        action: change.action,
        changes: change.changes,
      }
      const op = this.#kv
        .atomic()
        .check(seq)
        .set(FORM_SEQ, revision)
        .set(audit(revision), entry)
        .delete(audit(revision - FORM_AUDIT_KEEP))
      if (change.form) {
        const stored: StoredForm = {
          id: change.formId,
          ...change.form,
          revision,
          updatedAt: change.at,
        }
        op.set(form(change.formId), stored)
      } else {
        op.delete(form(change.formId))
      }
      return (await op.commit()).ok ? revision : CONFLICT
    })
  }

  async audit(limit: number): Promise<FormAuditEntry[]> {
    const entries = this.#kv.list<FormAuditEntry>(
      { prefix: ['form_audit'] },
      { reverse: true, limit }
    )
    return (await collect(entries)).map((e) => e.value)
  }
}
