import { describe, expect, it } from 'vitest'
import { LABEL_KEYS } from './form-fields.ts'
import { FIELD_MESSAGES, fieldLabel, LANGUAGES, MESSAGE_KEYS, visitorText } from './visitor-text.ts'

/** What a visitor can meet on a working site, so what every language must say in its own words. */
const VISITOR_ERRORS = [
  'unknown_form',
  'origin_not_allowed',
  'challenge_failed',
  'invalid_input',
  'rate_limited',
  'delivery_failed',
  'unavailable',
] as const

describe('visitorText', () => {
  it('English is the default, with the error and field messages of accept-signup.ts and validate-signup.ts', () => {
    const text = visitorText()
    expect(text.lang).toBe('en')
    expect(text.success).toBe('Thanks! You are signed up.')
    expect(text.errors).toEqual({
      delivery_failed: 'We could not complete your sign-up. Please try again later.',
    })
    expect(text.fields).toEqual({})
  })

  it('says the owner was told of a failed delivery only when an alert channel exists', () => {
    expect(visitorText({ language: 'fr' }).errors.delivery_failed).toBe(
      'Votre inscription n’a pas pu aboutir. Réessayez plus tard.'
    )
    expect(visitorText({ language: 'fr' }, { ownerAlerted: true }).errors.delivery_failed).toBe(
      'Votre inscription n’a pas pu aboutir. Réessayez plus tard. Le responsable du site est prévenu.'
    )
    for (const language of LANGUAGES) {
      const text = visitorText({ language }, { ownerAlerted: true })
      expect(text.errors.delivery_failed?.endsWith(text.owner_notified), language).toBe(true)
      expect(visitorText({ language }).errors.delivery_failed).not.toContain(text.owner_notified)
    }
    // The owner's own words are theirs, alert channel or not.
    const own = { messages: { delivery_failed: 'Oops.' } }
    expect(visitorText(own, { ownerAlerted: true }).errors.delivery_failed).toBe('Oops.')
  })

  it('French, Spanish and German translate every text a visitor meets', () => {
    for (const language of LANGUAGES.filter((l) => l !== 'en')) {
      const text = visitorText({ language })
      expect(text.lang).toBe(language)
      for (const code of VISITOR_ERRORS)
        expect(text.errors[code], `${language} ${code}`).toBeTruthy()
      for (const key of Object.keys(FIELD_MESSAGES).filter((k) => k !== 'token')) {
        expect(text.fields[key as keyof typeof FIELD_MESSAGES], `${language} ${key}`).toBeTruthy()
      }
      for (const key of ['success', 'sending', 'network', 'thanks_title', 'back'] as const) {
        expect(text[key]).not.toBe(visitorText()[key])
      }
    }
  })

  it('the owner’s wording wins, key by key, over the built-in language', () => {
    const text = visitorText({
      language: 'de',
      messages: { success: 'Willkommen!', rate_limited: 'Langsam, bitte.' },
    })
    expect(text.success).toBe('Willkommen!')
    expect(text.errors.rate_limited).toBe('Langsam, bitte.')
    expect(text.sending).toBe('Wird gesendet…')
    expect(text.errors.unavailable).toBe(visitorText({ language: 'de' }).errors.unavailable)
    expect(MESSAGE_KEYS).toContain('rate_limited')
  })

  it('labels every standard field in every language; the owner’s label wins', () => {
    for (const language of LANGUAGES.filter((l) => l !== 'en')) {
      const text = visitorText({ language })
      for (const key of LABEL_KEYS)
        expect(fieldLabel(text, undefined, key), `${language} ${key}`).not.toBe(
          fieldLabel(visitorText(), undefined, key)
        )
    }
    const fr = visitorText({ language: 'fr' })
    expect(fieldLabel(fr, undefined, 'first_name')).toBe('Prénom')
    expect(fieldLabel(fr, { first_name: 'Votre prénom' }, 'first_name')).toBe('Votre prénom')
    expect(fieldLabel(fr, { first_name: 'Votre prénom' }, 'email')).toBe('Adresse e-mail')
  })
})
