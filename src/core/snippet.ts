/**
 * @module snippet
 * The copy-paste HTML for a form profile: the public form contract (README "The form contract"),
 * pre-filled with the profile's lists and custom-field aliases. Works with no JavaScript; the
 * embed script enhances it.
 */
import { html } from 'hono/html'
import type { Catalog } from './catalog.ts'
import type { FormProfile } from './config.ts'

export async function formSnippet(
  relayOrigin: string,
  formId: string,
  profile: FormProfile,
  catalog: Catalog | null
): Promise<string> {
  const listName = (id: string) =>
    catalog?.lists.find((l) => l.list_id.toLowerCase() === id.toLowerCase())?.name ?? id
  const fieldLabel = (alias: string, id: string) =>
    catalog?.custom_fields.find((f) => f.custom_field_id.toLowerCase() === id.toLowerCase())
      ?.label ?? alias
  const lists =
    profile.lists.length > 1
      ? profile.lists.map(
          (id) =>
            html`\n  <label><input type="checkbox" name="list" value="${id}" checked> ${listName(id)}</label>`
        )
      : ''
  const custom = Object.entries(profile.custom_fields ?? {}).map(
    ([alias, id]) =>
      html`\n  <label>${fieldLabel(alias, id)} <input type="text" name="custom.${alias}"></label>`
  )
  const turnstile = profile.turnstile
    ? html`\n  <div class="cf-turnstile" data-sitekey="YOUR_TURNSTILE_SITE_KEY" data-action="${formId}"></div>`
    : ''
  const turnstileScript = profile.turnstile
    ? html`\n<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>`
    : ''
  const snippet = html`<form action="${relayOrigin}/subscribe/${formId}" method="post" data-ctct-relay>
  <input type="email" name="email" required placeholder="you@example.com">${lists}${custom}
  <input type="text" name="${profile.honeypot}" hidden tabindex="-1" autocomplete="off">${turnstile}
  <button>Subscribe</button>
  <p data-ctct-status aria-live="polite"></p>
</form>
<script src="${relayOrigin}/embed.js" defer></script>${turnstileScript}`
  return String(await snippet)
}
