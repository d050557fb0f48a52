/**
 * @module core/origins/origin-routes
 * Refused origins for the owner, mounted inside /admin (owner only, its CSRF check and bounded
 * bodies):
 *   GET  /admin/api/refused-origins    200 {"refused_origins":[RefusalLine…]}, still to act on
 *   POST /admin/forms/:formId/origins  field `origin`: added to a dashboard form's origins,
 *                                      303 /admin/forms/:formId?notice=origin_added (also when
 *                                      it was there already); 409 form_managed_by_config for a
 *                                      form of FORMS; 400 invalid_input for what is no origin;
 *                                      404 unknown_form
 */
import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import { type FormDirectory, parseProfile } from '../forms/forms.ts'
import { FORM_ID, PROFILE_ENTRIES } from '../forms/profile.ts'
import type { OutcomeRecorder } from '../metrics/outcome-recorder.ts'
import { formField } from '../owner/owner-body.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { profileFor } from '../signup/accept-signup.ts'
import { loadRefusalLines } from './refused-origins.tsx'

export interface OriginDeps {
  backend: () => RelayBackend
  forms: FormDirectory
  ownerOnly: MiddlewareHandler<AppEnv>
  outcomes?: OutcomeRecorder
}

export function originRoutes(deps: OriginDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/api/refused-origins', deps.ownerOnly, async (c) => {
    const { forms } = await deps.backend().forms()
    return c.json({ refused_origins: await loadRefusalLines(deps, c.var.config, forms) })
  })

  // The editor's save path (backend.saveForm): a new revision, which every isolate's copy of the
  // form is checked against on its next sign-up, and a line in the form's Changes. Only the
  // origins change, so the account's lists and fields are not checked again: a list deleted in
  // CC must not stop the owner from letting their site in.
  app.post('/forms/:formId/origins', deps.ownerOnly, async (c) => {
    const id = c.req.param('formId')
    const typed = formField(c, 'origin').trim()
    if (profileFor(c.var.config, id)) {
      throw new AppError(
        'form_managed_by_config',
        `The form "${id}" is defined in FORMS, so its origins change there, not here: add ${JSON.stringify(typed.slice(0, 200))} to its "origins" in FORMS, then redeploy.`
      )
    }
    const form = FORM_ID.test(id) ? await deps.backend().form(id) : null
    if (!form) throw new AppError('unknown_form', `There is no form "${id}" made in the dashboard`)
    const checked = v.safeParse(PROFILE_ENTRIES.origins, [typed])
    if (!checked.success) {
      const problem = checked.issues[0].message
      throw new AppError(
        'invalid_input',
        `${JSON.stringify(typed.slice(0, 200))} cannot be added to the form's origins: it ${problem.replace(/[.?]$/, '')}.`,
        { details: { fields: { origin: problem } } }
      )
    }
    const [origin] = checked.output
    if (!form.profile.origins.includes(origin)) {
      const parsed = parseProfile({ ...form.profile, origins: [...form.profile.origins, origin] })
      if (!parsed.ok) {
        throw new AppError('invalid_input', 'The form would not be valid with this origin', {
          details: { fields: parsed.fields },
        })
      }
      const saved = await deps
        .backend()
        .saveForm({ id, profile: parsed.profile, types: form.types })
      deps.forms.remember(id, saved.form)
    }
    return c.redirect(`/admin/forms/${id}?notice=origin_added`, 303)
  })

  return app
}
