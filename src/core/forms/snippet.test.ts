import { describe, expect, it } from 'vitest'
import { formMarkup, formSnippet } from './snippet.ts'

const LIST = '9e2f7d10-1111-4c3b-8e42-000000000001'
const OPTIONAL = '9e2f7d10-1111-4c3b-8e42-000000000002'
const VISITS = '5a1d0c6e-2222-4f1a-9b7c-000000000003'
const catalog = {
  lists: [
    { list_id: LIST, name: 'News & "offers"' },
    { list_id: OPTIONAL, name: 'Events <2030>' },
  ],
  custom_fields: [],
  tags: [],
  fetched_at: '',
}

describe('formMarkup', () => {
  it('escapes each value exactly once: a number field keeps its inputmode', async () => {
    const html = await formMarkup(
      'https://relay.test',
      'f',
      { lists: [LIST], custom_fields: { visits: VISITS } },
      null,
      { [VISITS.toLowerCase()]: { type: 'number', integer: true } }
    )
    expect(html).toContain('<input type="text" name="custom.visits" inputmode="numeric">')
    expect(html).not.toContain('&quot;')
  })

  it('offers optional lists by name in a fieldset, and the consent box with its link', async () => {
    const html = await formMarkup(
      'https://relay.test',
      'f',
      {
        lists: [LIST],
        optional_lists: [OPTIONAL],
        consent: { text: 'I agree <to> "this"', required: false, privacy_url: 'https://s.test/p' },
        language: 'fr',
      },
      catalog
    )
    expect(html).toContain(
      `<fieldset>\n    <legend>Listes à rejoindre</legend>\n    <label><input type="checkbox" name="list" value="${OPTIONAL}"> Events &lt;2030&gt;</label>\n  </fieldset>`
    )
    expect(html).not.toContain(`value="${LIST}"`)
    expect(html).toContain(
      '<label><input type="checkbox" name="consent" value="yes"> I agree &lt;to&gt; &quot;this&quot;</label> <a href="https://s.test/p">Politique de confidentialité</a>'
    )
  })

  it('asks for the chosen standard fields with their autofill, required where the profile says', async () => {
    const html = await formMarkup(
      'https://relay.test',
      'f',
      {
        lists: [LIST],
        fields: { phone_number: 'optional', first_name: 'required', address: 'required' },
        language: 'de',
        labels: { email: 'Ihre E-Mail', city: 'Stadt' },
      },
      null
    )
    expect(html).toContain(
      '<label>Ihre E-Mail <input type="email" name="email" required autocomplete="email"></label>\n  <label>Vorname <input type="text" name="first_name" autocomplete="given-name" required></label>\n  <label>Telefon <input type="tel" name="phone_number" autocomplete="tel"></label>\n  <fieldset>\n    <legend>Adresse</legend>'
    )
    expect(html).toContain(
      '<label>Stadt <input type="text" name="city" autocomplete="address-level2" required></label>'
    )
    // The state and the postal code stay optional in a required address.
    expect(html).toContain(
      '<label>Postleitzahl <input type="text" name="postal_code" autocomplete="postal-code"></label>'
    )
    expect(html).not.toContain('last_name')
  })

  it('a birthday is two numeric inputs under a legend; an anniversary a date; custom labels win', async () => {
    const html = await formMarkup(
      'https://relay.test',
      'f',
      {
        lists: [LIST],
        fields: { birthday: 'optional', anniversary: 'required' },
        custom_fields: { visits: VISITS },
        labels: { 'custom.visits': 'Visites par an' },
        language: 'fr',
      },
      null
    )
    expect(html).toContain(
      '<fieldset>\n    <legend>Anniversaire</legend>\n    <label>Mois <input type="text" name="birthday_month" autocomplete="bday-month" inputmode="numeric"></label>'
    )
    expect(html).toContain(
      '<label>Date anniversaire <input type="date" name="anniversary" required></label>'
    )
    expect(html).toContain('<label>Visites par an <input type="text" name="custom.visits"></label>')
  })

  it('a profile without `fields` asks for the email alone, as before', async () => {
    const html = await formMarkup('https://relay.test', 'f', { lists: [LIST] }, null)
    expect(html).toContain(
      '<label>Email <input type="email" name="email" required autocomplete="email"></label>\n  <input type="text" name="_gotcha"'
    )
  })

  it('the whole snippet adds embed.js', async () => {
    const html = await formSnippet('https://relay.test', 'f', { lists: [LIST] }, null)
    expect(html.endsWith('<script src="https://relay.test/embed.js" defer></script>')).toBe(true)
  })
})
