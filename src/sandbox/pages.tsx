/** @module sandbox/pages: the sandbox's pages (`npm start` without credentials, loopback only). */

import type { SandboxView } from '../core/relay/backend.ts'
import { Page } from '../core/ui/layout.tsx'

/** The authorize parameters the consent form carries back, as CC's consent screen would. */
const CONSENT_FIELDS = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'scope'] as const

/** Stands in for Constant Contact's consent screen. */
export function SandboxConsentPage({ query }: { query: Record<string, string | undefined> }) {
  return (
    <Page title="Sandbox: allow access?">
      <p class="card">
        This page stands in for Constant Contact's consent screen. Nothing leaves this machine.
      </p>
      <form method="post" action="/__sandbox/authorize">
        {CONSENT_FIELDS.map((k) => (
          <input type="hidden" name={k} value={query[k] ?? ''} />
        ))}
        <p>
          Scopes requested: <code>{query.scope ?? ''}</code>
        </p>
        <button type="submit" name="decision" value="allow">
          Allow
        </button>{' '}
        <button class="secondary" type="submit" name="decision" value="deny">
          Deny
        </button>
      </form>
    </Page>
  )
}

/** The stand-in CC's lists, to delete one and see what a list deleted in CC does. */
export function SandboxPage({ view }: { view: SandboxView }) {
  return (
    <Page title="Sandbox">
      <p class="card">
        Delete a list here to see what happens when a list is deleted in Constant Contact: sign-ups
        to it are refused, become dead letters, and the dashboard flags the form.
      </p>
      <ul>
        {view.lists.map((l) => (
          <li data-sandbox-list={l.list_id}>
            {l.name} <code>{l.list_id}</code> {l.deleted && '(deleted)'}{' '}
            <form
              class="inline"
              method="post"
              action={`/__sandbox/lists/${l.list_id}/${l.deleted ? 'restore' : 'delete'}`}
            >
              <button type="submit" class={l.deleted ? undefined : 'danger'}>
                {l.deleted ? 'Restore' : 'Delete'}
              </button>
            </form>
          </li>
        ))}
      </ul>
      <p>
        <a href="/admin">Back to /admin</a>
      </p>
    </Page>
  )
}
