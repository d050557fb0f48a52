/**
 * @module core/outbox/failed-signups
 * The owner's list of failed sign-ups (dead letters): what CC refused, in words, the attempts,
 * where to fix it, Retry, and a Delete that asks first.
 */
import type { Catalog } from '../cc/catalog.ts'
import type { DeadLetterView } from '../relay/backend.ts'
import { When } from '../ui/time.tsx'
import { failureWords } from './failure-words.ts'

/** What the list says of each form: its name, and whether the dashboard can change it. */
export type FormLabels = Map<string, { name: string; editable: boolean }>

/** Where a dead letter's Retry and Delete post (each kind numbers its own). */
function deadLetterPath(d: Pick<DeadLetterView, 'id' | 'kind'>): string {
  return d.kind === 'tagging'
    ? `/admin/dead-letters/tagging/${d.id}`
    : `/admin/dead-letters/${d.id}`
}

function FailedSignup({
  letter: d,
  catalog,
  forms,
  zone,
}: {
  letter: DeadLetterView
  catalog: Catalog | null
  forms: FormLabels
  zone?: string
}) {
  const words = failureWords(d, catalog)
  const form = forms.get(d.form_id)
  const path = deadLetterPath(d)
  return (
    <li class="card" data-dead-letter={d.id} data-kind={d.kind}>
      <p>
        <strong>{d.email_masked}</strong> · {form?.name ?? d.form_id} · failed{' '}
        <When at={d.dead_at} zone={zone} /> ·{' '}
        {d.attempts === 1 ? '1 attempt' : `${d.attempts} attempts`}
        {d.kind === 'tagging' && ' · delivered, but not tagged'}
      </p>
      <p class="error" data-cause>
        {words.cause}
        {words.missing.length > 0 && ` (${words.missing.join('; ')})`}
      </p>
      <p>
        {form?.editable ? (
          <a href={`/admin/forms/${d.form_id}/edit`}>Fix it in the form’s Settings</a>
        ) : (
          <a href={`/admin/forms/${d.form_id}`}>See the form</a>
        )}
        , then Retry.
      </p>
      <form class="inline" method="post" action={`${path}/retry`}>
        <button type="submit">Retry</button>
      </form>{' '}
      {/* Asked first, and apart from Retry: a deleted sign-up is gone for good. */}
      <details class="confirm">
        <summary>Delete…</summary>
        <p>The sign-up is deleted for good; it is not sent to Constant Contact.</p>
        <form method="post" action={`${path}/delete`}>
          <button class="danger" type="submit">
            Delete it for good
          </button>
        </form>
      </details>
    </li>
  )
}

/**
 * Nothing when none failed. `total`: every failed sign-up (`letters` may be the newest only);
 * `shown`: how many to list here, the rest on /admin/failed.
 */
export function FailedSignups(props: {
  letters: DeadLetterView[]
  total?: number
  shown?: number
  catalog: Catalog | null
  forms: FormLabels
  zone?: string
}) {
  const total = Math.max(props.total ?? 0, props.letters.length)
  if (total === 0) return null
  const listed = props.letters.slice(0, props.shown ?? props.letters.length)
  return (
    <section class="card" id="failed">
      <h2>Failed sign-ups ({total})</h2>
      <p>
        Constant Contact refused these, so they are kept here rather than lost. Fix the cause (often
        a list, custom field or tag deleted in Constant Contact), then Retry.
      </p>
      {listed.length < total && (
        <p data-failed-more={total - listed.length}>
          The newest {listed.length} are listed here.{' '}
          {props.shown !== undefined && <a href="/admin/failed">Every failed sign-up</a>}
          {props.shown === undefined && <a href="/admin/dead-letters.csv">All {total}, as CSV</a>}
        </p>
      )}
      {total > 1 && (
        <form method="post" action="/admin/dead-letters/all/retry">
          <button type="submit">Retry all</button>
        </form>
      )}
      <ul class="dead-letters">
        {listed.map((letter) => (
          <FailedSignup
            letter={letter}
            catalog={props.catalog}
            forms={props.forms}
            zone={props.zone}
          />
        ))}
      </ul>
    </section>
  )
}
