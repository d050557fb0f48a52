/**
 * @module core/forms/form-page-routes
 * The owner's form pages (form-list-pages.tsx), mounted at /admin/forms after the editor's
 * routes (form-routes.tsx), which own /new, /:formId/edit, /editor and /:formId/delete:
 *   GET /admin/forms                      every form
 *   GET /admin/forms/:formId              Snippet (and the test sign-up)
 *   GET /admin/forms/:formId/signups      failed sign-ups, receipts, a link to its activity
 *   GET /admin/forms/:formId/settings     a FORMS form's profile, read-only (a dashboard
 *                                         form's Settings is /edit)
 *   GET /admin/forms/:formId/changes      the form's audit trail
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import type { Catalog } from '../cc/catalog.ts'
import { loadLastDay } from '../metrics/metrics-routes.tsx'
import type { OutcomeRecorder } from '../metrics/outcome-recorder.ts'
import { FormRefusedOrigins, loadRefusalLines } from '../origins/refused-origins.tsx'
import { noticeOf } from '../owner/notices.ts'
import type { RelayBackend, RelayStatus } from '../relay/backend.ts'
import {
  ConfigFormSettingsPage,
  type FormCard,
  FormChangesPage,
  FormSignupsPage,
  FormSnippetPage,
  FormsPage,
  formLabels,
} from './form-list-pages.tsx'
import { type FormsDeps, formCards } from './form-routes.tsx'
import { formSnippet } from './snippet.ts'

/** The account's lists, custom fields and tags when connected; else why there are none. */
async function catalogOf(
  backend: RelayBackend,
  status: RelayStatus
): Promise<{ value: Catalog | null; error: string | null }> {
  if (!status.connected) return { value: null, error: null }
  const read = await backend.catalog()
  return read.ok ? { value: read.value, error: null } : { value: null, error: read.message }
}

/**
 * What every owner page about forms reads (these, the Overview, /admin/failed): the status, the
 * catalog and every form's card.
 */
export async function loadFormsView(deps: Pick<FormsDeps, 'backend'>, c: Context<AppEnv>) {
  const backend = deps.backend()
  const [status, dashboard] = await Promise.all([backend.status(), backend.forms()])
  const catalog = await catalogOf(backend, status)
  const forms = formCards(c.var.config, dashboard.forms, catalog.value)
  return {
    status,
    catalog,
    forms,
    dashboard: dashboard.forms,
    audit: dashboard.audit,
    zone: status.account.summary?.time_zone_id,
  }
}

function formIn(forms: FormCard[], id: string): FormCard {
  const form = forms.find((f) => f.formId === id)
  if (!form) throw new AppError('unknown_form', `There is no form "${id}"`)
  return form
}

export function formPageRoutes(deps: FormsDeps & { outcomes?: OutcomeRecorder }): Hono<AppEnv> {
  const pages = new Hono<AppEnv>()
  pages.use(deps.ownerOnly)

  pages.get('/', async (c) => {
    const [view, consentCounts] = await Promise.all([
      loadFormsView(deps, c),
      deps.backend().consentCounts(),
    ])
    return c.html(
      <FormsPage
        forms={view.forms}
        consentCounts={consentCounts}
        audit={view.audit}
        catalog={view.catalog.value}
        catalogError={view.catalog.error}
        zone={view.zone}
        notice={noticeOf(c)}
      />
    )
  })

  pages.get('/:formId', async (c) => {
    const view = await loadFormsView(deps, c)
    const form = formIn(view.forms, c.req.param('formId'))
    const [refusals, snippet] = await Promise.all([
      loadRefusalLines(deps, c.var.config, view.dashboard),
      formSnippet(
        new URL(c.req.url).origin,
        form.formId,
        form.profile,
        view.catalog.value,
        form.types
      ),
    ])
    return c.html(
      <FormSnippetPage form={form} snippet={snippet} notice={noticeOf(c)}>
        <FormRefusedOrigins formId={form.formId} lines={refusals} zone={view.zone} />
      </FormSnippetPage>
    )
  })

  pages.get('/:formId/signups', async (c) => {
    const backend = deps.backend()
    const formId = c.req.param('formId')
    const [view, letters, consentCounts, lastDay] = await Promise.all([
      loadFormsView(deps, c),
      backend.deadLetters(),
      backend.consentCounts(),
      loadLastDay(deps, formId),
    ])
    const form = formIn(view.forms, formId)
    return c.html(
      <FormSignupsPage
        form={form}
        letters={letters.filter((d) => d.form_id === form.formId)}
        catalog={view.catalog.value}
        forms={formLabels(view.forms)}
        consentCount={consentCounts[form.formId] ?? 0}
        lastDay={lastDay}
        waiting={view.status.outbox.pending}
        zone={view.zone}
      />
    )
  })

  pages.get('/:formId/settings', async (c) => {
    const form = formIn((await loadFormsView(deps, c)).forms, c.req.param('formId'))
    if (form.updatedAt !== null) return c.redirect(`/admin/forms/${form.formId}/edit`, 303)
    return c.html(<ConfigFormSettingsPage form={form} />)
  })

  pages.get('/:formId/changes', async (c) => {
    const view = await loadFormsView(deps, c)
    const form = formIn(view.forms, c.req.param('formId'))
    return c.html(
      <FormChangesPage form={form} audit={view.audit.filter((e) => e.formId === form.formId)} />
    )
  })

  return pages
}
