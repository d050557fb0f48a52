/**
 * @module core/ui/layout
 * Server-rendered page layout as hono/jsx components (escaped text and attributes). No scripts
 * and no inline styles, as the owner pages' CSP (security-headers.ts) requires; every page works
 * without JavaScript.
 */
import { raw } from 'hono/html'
import type { PropsWithChildren } from 'hono/jsx'
import { EDITOR_STYLES } from '../forms/editor-styles.ts'
import { CHART_STYLES } from '../metrics/charts.tsx'
import { ORIGIN_STYLES } from '../origins/refused-origins.tsx'

/** The owner's sections, in the header of every owner page. */
const OWNER_SECTIONS = [
  { key: 'overview', href: '/admin', label: 'Overview' },
  { key: 'forms', href: '/admin/forms', label: 'Forms' },
  { key: 'activity', href: '/admin/activity', label: 'Activity' },
  { key: 'connection', href: '/admin/connection', label: 'Connection' },
  { key: 'webhooks', href: '/admin/webhooks', label: 'Webhooks' },
] as const
export type OwnerSection = (typeof OWNER_SECTIONS)[number]['key']

/** A navigation of links, the current page's marked; `children` end the list. */
export function NavLinks<K extends string>({
  label,
  links,
  current,
  class: className,
  children,
}: PropsWithChildren<{
  label: string
  links: readonly { key: K; href: string; label: string }[]
  current: K | null
  class?: string
}>) {
  return (
    <nav aria-label={label} class={className}>
      <ul>
        {links.map((link) => (
          <li>
            <a href={link.href} aria-current={link.key === current ? 'page' : undefined}>
              {link.label}
            </a>
          </li>
        ))}
        {children}
      </ul>
    </nav>
  )
}

/** The owner's navigation: every section, the current one marked, and Sign out (a POST). */
function OwnerNav({ current }: { current: OwnerSection | null }) {
  return (
    <header class="owner-header">
      <NavLinks label="Dashboard" links={OWNER_SECTIONS} current={current}>
        <li>
          <form method="post" action="/admin/logout">
            <button class="link" type="submit">
              Sign out
            </button>
          </form>
        </li>
      </NavLinks>
    </header>
  )
}

/** Every page: the title is also the heading. `lang`: a visitor page in the form's language. */
export function Page({
  title,
  lang,
  owner,
  notice,
  children,
}: PropsWithChildren<{
  title: string
  lang?: string
  /** An owner page: the navigation, with this section marked current (null: none). */
  owner?: OwnerSection | null
  /** What the action that led here did (`?notice=`, owner/notices.ts), under the title. */
  notice?: string
}>) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang={lang ?? 'en'}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <title>{title} · ctct-relay</title>
          <link rel="stylesheet" href="/assets/app.css" />
        </head>
        <body>
          {owner !== undefined && <OwnerNav current={owner} />}
          <main>
            <h1>{title}</h1>
            {notice && (
              <p class="card message" role="status">
                {notice}
              </p>
            )}
            {children}
          </main>
        </body>
      </html>
    </>
  )
}

export interface Link {
  href: string
  label: string
}

/** Where to go next, as a button: the last thing on every message page. */
export function NextStep({ href, label }: Link) {
  return (
    <p>
      <a class="button" href={href}>
        {label}
      </a>
    </p>
  )
}

/** A page that says what happened and what to do; used for every OAuth and owner error. */
export function MessagePage({
  title,
  message,
  next,
}: {
  title: string
  message: string
  next: Link
}) {
  return (
    <Page title={title}>
      <p class="message">{message}</p>
      <NextStep {...next} />
    </Page>
  )
}

export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #1856ed; --bad: #c62828; --ok: #2e7d32; --warn: #935700; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 1rem; }
main { max-width: 64rem; margin: 0 auto; }
h1 { font-size: 1.5rem; }
.card { border: 1px solid #8884; border-radius: .5rem; padding: 1rem; margin: 1rem 0; overflow-wrap: anywhere; }
.button, button { display: inline-block; padding: .55rem 1rem; border-radius: .4rem; border: 0; background: var(--accent); color: #fff; text-decoration: none; font: inherit; cursor: pointer; }
button.secondary, .button.secondary { background: #666; }
button.danger { background: var(--bad); }
input[type=password], input[type=text], input[type=email], input[type=url], textarea, select { font: inherit; padding: .5rem; width: 100%; max-width: 32rem; }
.state-connected { color: var(--ok); } .state-degraded { color: var(--warn); }
.state-needs_reauth, .state-not_connected, .error { color: var(--bad); }
/* Advice is not an error: a bar in the warning colour, the text in the page's. */
.advice { border-left: .3rem solid var(--warn); padding-left: .75rem; }
#needs-you li { margin: .4rem 0; } #needs-you .button { padding: .3rem .8rem; }
.form-tabs ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; }
.form-tabs a[aria-current=page] { font-weight: 700; }
.form-list, .dead-letters { list-style: none; padding: 0; }
.form-list h2 { font-size: 1.2rem; margin: 0 0 .25rem; }
textarea.snippet { font: .85rem/1.4 ui-monospace, monospace; width: 100%; max-width: none; white-space: pre-wrap; }
blockquote { margin: .5rem 0; padding: .5rem 1rem; border-left: .3rem solid #8886; }
.message { font-size: 1.1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
/* On a phone a term's column would squeeze its value to a letter a line: one column instead. */
@media (max-width: 40rem) { dl { grid-template-columns: 1fr; gap: 0; } dd { margin-bottom: .5rem; overflow-wrap: normal; } }
form.inline { display: inline; }
pre { overflow-x: auto; padding: .75rem; background: #8882; border-radius: .4rem; }
fieldset { border: 1px solid #8884; border-radius: .4rem; margin: 1rem 0; }
label.choice, .hint, .problem, .editor label, .preview label { display: block; margin: .3rem 0; }
.field-row { margin: .75rem 0; }
.preview { border: 1px dashed #888; border-radius: .4rem; padding: 1rem; }
.owner-header { max-width: 64rem; margin: 0 auto 1rem; border-bottom: 1px solid #8884; }
.owner-header ul { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; margin: 0; padding: 0 0 .5rem; }
.owner-header a { text-decoration: none; } .owner-header a[aria-current=page] { font-weight: 700; text-decoration: underline; }
button.link { background: none; color: var(--accent); padding: 0; text-decoration: underline; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .2rem 1rem .2rem 0; }
${CHART_STYLES}${ORIGIN_STYLES}${EDITOR_STYLES}`
