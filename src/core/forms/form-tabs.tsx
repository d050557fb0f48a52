/**
 * @module core/forms/form-tabs
 * A form's own navigation, under the owner's header: Snippet · Sign-ups · Settings · Changes, on
 * its pages (form-list-pages.tsx) and in its editor (form-pages.tsx).
 */

import { NavLinks } from '../ui/layout.tsx'

export type FormTab = 'snippet' | 'signups' | 'settings' | 'changes'

/** The form's own navigation: Settings is the editor for a dashboard form. */
export function FormTabs({
  formId,
  editable,
  current,
}: {
  formId: string
  editable: boolean
  current: FormTab
}) {
  const base = `/admin/forms/${formId}`
  const tabs: { key: FormTab; href: string; label: string }[] = [
    { key: 'snippet', href: base, label: 'Snippet' },
    { key: 'signups', href: `${base}/signups`, label: 'Sign-ups' },
    { key: 'settings', href: editable ? `${base}/edit` : `${base}/settings`, label: 'Settings' },
    { key: 'changes', href: `${base}/changes`, label: 'Changes' },
  ]
  return <NavLinks label="This form" class="form-tabs" links={tabs} current={current} />
}
