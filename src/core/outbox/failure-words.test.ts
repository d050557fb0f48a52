import { describe, expect, it } from 'vitest'
import type { Catalog } from '../cc/catalog.ts'
import type { DeadLetterView } from '../relay/backend.ts'
import { failureWords } from './failure-words.ts'

const NEWS = '3a1b2c4d-0000-4000-8000-000000000001'
const GONE = '3a1b2c4d-0000-4000-8000-000000000002'
const FIELD = '7c0de000-0000-4000-8000-000000000001'
const TAG = '7a6c0000-0000-4000-8000-000000000001'

const catalog: Catalog = {
  lists: [{ list_id: NEWS, name: 'Newsletter' }],
  custom_fields: [{ custom_field_id: FIELD, name: 'source', label: 'Source', type: 'string' }],
  tags: [{ tag_id: TAG, name: 'Website' }],
  fetched_at: '2026-12-06T00:00:00.000Z',
} as Catalog

const letter = (over: Partial<DeadLetterView>): DeadLetterView => ({
  id: 1,
  kind: 'signup',
  form_id: 'newsletter',
  email_masked: 'a•••a@example.com',
  created_at: '2026-12-06T10:00:00.000Z',
  dead_at: '2026-12-06T10:00:01.000Z',
  error: {
    status: 400,
    error_key: 'contacts.api.validation.error',
    message: `List ${GONE} does not exist`,
  },
  attempts: 1,
  lists: [NEWS, GONE],
  ...over,
})

describe('failureWords', () => {
  it('names what the account knows, and calls out a list it no longer has', () => {
    expect(failureWords(letter({}), catalog)).toEqual({
      cause: `Constant Contact refused the sign-up: List ${GONE} does not exist`,
      missing: [`a list your account no longer has (${GONE})`],
    })
    const field = letter({
      error: {
        status: 400,
        error_key: 'k',
        message: `Custom field ${FIELD.toUpperCase()} is too long`,
      },
      lists: [NEWS],
    })
    expect(failureWords(field, catalog)).toEqual({
      cause: 'Constant Contact refused the sign-up: the custom field “Source” is too long',
      missing: [],
    })
  })

  it("a tagging's tags, by name", () => {
    const tagging = letter({
      kind: 'tagging',
      lists: undefined,
      tag_ids: [TAG],
      error: { status: 400, error_key: 'k', message: `Tag ${TAG} is archived` },
    })
    expect(failureWords(tagging, catalog)).toEqual({
      cause: 'Constant Contact refused tagging the contact: the tag “Website” is archived',
      missing: [],
    })
  })

  it('without a catalog or a message, says what it can', () => {
    expect(failureWords(letter({ error: null }), null)).toEqual({
      cause: 'Constant Contact refused the sign-up.',
      missing: [],
    })
  })
})
