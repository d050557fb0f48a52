/**
 * @module core/origins/refused-origins
 * What the owner is shown of refused origins (refusals.ts): "Refused from https://www.example.com
 * (3× today)", with what to do about it. A dashboard form gets a one-click Add (a POST form, no
 * JavaScript, under /admin's CSRF check); a form of FORMS gets the exact change to make there.
 * A refusal whose origin the form now allows, or whose form is gone, is no longer shown.
 */
import * as v from 'valibot'
import type { Config } from '../app/config.ts'
import { PROFILE_ENTRIES } from '../forms/profile.ts'
import type { StoredForm } from '../forms/repo.ts'
import type { OutcomeRecorder } from '../metrics/outcome-recorder.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { profileFor } from '../signup/accept-signup.ts'
import { When } from '../ui/time.tsx'
import { NO_ORIGIN, ORIGINS_PER_FORM_DAY, OTHER_ORIGINS, type RefusedOrigin } from './refusals.ts'

/** A refused origin with its form as it is now: where its origins are kept, and which they are. */
export interface RefusalLine extends RefusedOrigin {
  source: 'config' | 'dashboard'
  form_origins: string[]
}

/**
 * The refusals still to act on: of a form that exists (FORMS first, as sign-ups see it), from an
 * origin it does not allow yet. Once the origin is added, its line is gone: it is resolved.
 */
export function refusalLines(
  refused: readonly RefusedOrigin[],
  config: Config,
  dashboard: readonly StoredForm[]
): RefusalLine[] {
  return refused.flatMap((r) => {
    const configured = profileFor(config, r.form_id)
    const profile = configured ?? dashboard.find((f) => f.id === r.form_id)?.profile
    if (!profile || profile.origins.includes(r.origin)) return []
    const source = configured ? ('config' as const) : ('dashboard' as const)
    return [{ ...r, source, form_origins: profile.origins }]
  })
}

/**
 * The lines to show, with this isolate's unsent counts sent first (outcome-recorder.ts), as the
 * metrics pages do. `dashboard`: the dashboard's forms (`backend.forms()`), which the caller has.
 */
export async function loadRefusalLines(
  deps: { backend: () => RelayBackend; outcomes?: OutcomeRecorder },
  config: Config,
  dashboard: readonly StoredForm[]
): Promise<RefusalLine[]> {
  await deps.outcomes?.flush()
  return refusalLines(await deps.backend().refusedOrigins(), config, dashboard)
}

/** True when `origin` is a site's origin a profile takes (the profile schema's own rule). */
const addable = (origin: string) => v.is(PROFILE_ENTRIES.origins, [origin])

/** The `origins` of a FORMS entry with `origin` added: the JSON to paste in its place. */
export function formsOriginsChange(origins: readonly string[], origin: string): string {
  return `"origins": ${JSON.stringify([...origins, origin], null, 2)}`
}

function Refused({ origin }: { origin: string }) {
  if (origin === NO_ORIGIN) return <>a page with no origin (file:// or privacy settings)</>
  if (origin === OTHER_ORIGINS)
    return <>other origins (more than {ORIGINS_PER_FORM_DAY} different ones in a day)</>
  return <code>{origin}</code>
}

function times(line: RefusalLine): string {
  const parts = [
    line.today > 0 && `${line.today}× today`,
    line.yesterday > 0 && `${line.yesterday}× yesterday`,
  ]
  return parts.filter(Boolean).join(', ')
}

/** What the owner can do about one refusal. */
function Remedy({ line }: { line: RefusalLine }) {
  if (line.origin === NO_ORIGIN)
    return (
      <p class="hint">
        Such a page has no address to allow: put the form on a page served over https (or http on
        your own machine).
      </p>
    )
  if (line.origin === OTHER_ORIGINS)
    return (
      <p class="hint">
        So many different origins are seldom your own sites: someone may be probing the form.
      </p>
    )
  if (!addable(line.origin))
    return <p class="hint">This is not a site's address (a scheme and a host): nothing to add.</p>
  if (line.source === 'dashboard')
    return (
      <form method="post" action={`/admin/forms/${line.form_id}/origins`}>
        <input type="hidden" name="origin" value={line.origin} />
        <button type="submit">Add to this form's origins</button>
      </form>
    )
  return (
    <>
      <p class="hint">
        This form is defined in <code>FORMS</code>. If this is your site, replace the form's{' '}
        <code>"origins"</code> there with the lines below, then redeploy (
        <code>npx wrangler deploy</code>): <code>FORMS</code> changes only with a deployment.
      </p>
      <pre>
        <code>{formsOriginsChange(line.form_origins, line.origin)}</code>
      </pre>
    </>
  )
}

/** `formName`: what the owner calls the line's form, when the line names it (the Overview). */
function Line({ line, zone, formName }: { line: RefusalLine; zone?: string; formName?: string }) {
  return (
    <li class="refused-origin" data-form={line.form_id} data-origin={line.origin}>
      <p>
        <strong>
          Refused from <Refused origin={line.origin} />
        </strong>{' '}
        ({times(line)})
        {formName !== undefined && (
          <>
            {' '}
            for the form <a href={`/admin/forms/${line.form_id}`}>{formName}</a>
          </>
        )}
        ; the last at <When at={line.last_at} zone={zone} />.
      </p>
      <Remedy line={line} />
    </li>
  )
}

/** The card: one line per refusal; nothing at all when there are none. */
function RefusalCard({
  lines,
  zone,
  formNames,
}: {
  lines: RefusalLine[]
  zone?: string
  /** The forms' names, when each line names its form. */
  formNames?: ReadonlyMap<string, string>
}) {
  if (lines.length === 0) return null
  return (
    <section class="card refused-origins" id="refused-origins">
      <h2>Refused origins</h2>
      <p>
        A site that is not among a form’s origins has its sign-ups refused, and its visitors read
        “Could not reach the sign-up service”.
      </p>
      <ul>
        {lines.map((line) => (
          <Line
            line={line}
            zone={zone}
            formName={formNames && (formNames.get(line.form_id) ?? line.form_id)}
          />
        ))}
      </ul>
    </section>
  )
}

/**
 * For the Overview: the refusals of every form, each naming its form (`formNames`: by id).
 * `lines`: `loadRefusalLines`; `zone`: the account's time zone.
 */
export function RefusedOriginsOverview(props: {
  lines: RefusalLine[]
  zone?: string
  formNames: ReadonlyMap<string, string>
}) {
  return <RefusalCard {...props} />
}

/** For a form's page: the same lines, that form's only. */
export function FormRefusedOrigins({
  formId,
  lines,
  zone,
}: {
  formId: string
  lines: RefusalLine[]
  zone?: string
}) {
  const mine = lines.filter((line) => line.form_id === formId)
  return <RefusalCard lines={mine} zone={zone} />
}

/** Appended to the stylesheet: a FORMS change wraps rather than scrolls on a phone. */
export const ORIGIN_STYLES = `
.refused-origins pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.refused-origins li + li { margin-top: .75rem; }`
