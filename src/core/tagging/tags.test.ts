import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { createdTag, TagNameSchema, tagNamed } from './tags.ts'

const answered = (outcome: Parameters<typeof createdTag>[1] & { ok: true }) => outcome

describe('TagNameSchema', () => {
  it('takes a trimmed name of 1 to 255 characters, one line, without < or >', () => {
    expect(v.parse(TagNameSchema, '  Bread lovers ')).toBe('Bread lovers')
    expect(v.parse(TagNameSchema, 'x'.repeat(255))).toHaveLength(255)
    for (const bad of ['', '   ', 'x'.repeat(256), 'a<b', 'a>b', 'two\nlines', 42])
      expect(v.safeParse(TagNameSchema, bad).success, JSON.stringify(bad)).toBe(false)
  })
})

describe('createdTag', () => {
  it('201: the new tag, as CC names it', () => {
    const answer = answered({
      ok: true,
      outcome: { kind: 'delivered', status: 201 },
      body: { tag_id: 't1', name: 'Rye', created_at: '2031-01-01T00:00:00Z' },
    })
    expect(createdTag('Rye', answer)).toEqual({ ok: true, value: { tag_id: 't1', name: 'Rye' } })
    expect(createdTag('Rye', { ...answer, body: {} })).toMatchObject({ code: 'unavailable' })
  })

  it('409: the name is taken; 400: refused, with CC’s reason; 5xx: unavailable', () => {
    const refused = (status: number, kind: 'dead' | 'retry', message = 'Bad name') =>
      createdTag('Rye', {
        ok: true,
        outcome: { kind, status, errorKey: 'k', message },
        body: undefined,
      })
    expect(refused(409, 'retry')).toEqual({
      ok: false,
      code: 'tag_exists',
      message: 'A tag named "Rye" exists already',
    })
    expect(refused(400, 'dead')).toEqual({
      ok: false,
      code: 'invalid_input',
      message: 'Constant Contact refused it: Bad name',
    })
    expect(refused(503, 'retry')).toEqual({
      ok: false,
      code: 'unavailable',
      message: 'Constant Contact answered 503',
    })
  })

  it('no token, no answer: said as it is', () => {
    const failure = { ok: false, code: 'needs_reauth', message: 'Reconnect' } as const
    expect(createdTag('Rye', failure)).toEqual(failure)
  })
})

describe('tagNamed', () => {
  it('finds a name whatever its case', () => {
    const tags = [{ tag_id: 't1', name: 'Bread Lovers' }]
    expect(tagNamed(tags, 'bread lovers')).toEqual(tags[0])
    expect(tagNamed(tags, 'bread')).toBeUndefined()
  })
})
