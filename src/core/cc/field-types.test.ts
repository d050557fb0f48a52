import { describe, expect, it } from 'vitest'
import { checkValue, signupFormCanSet } from './field-types.ts'

describe('checkValue: values in the format CC documents for their type', () => {
  it('boolean: true or false, in any case; a checkbox’s "on" is true', () => {
    const boolean = { type: 'boolean' }
    expect(checkValue(boolean, 'TRUE')).toEqual({ ok: true, value: 'true' })
    expect(checkValue(boolean, 'on')).toEqual({ ok: true, value: 'true' })
    expect(checkValue(boolean, 'False')).toEqual({ ok: true, value: 'false' })
    expect(checkValue(boolean, 'yes')).toEqual({ ok: false, problem: 'trueFalse' })
    expect(checkValue(boolean, '1')).toEqual({ ok: false, problem: 'trueFalse' })
  })

  it('number: decimal digits; no sign unless allow_negative; decimal_places and integer', () => {
    const number = { type: 'number' }
    expect(checkValue(number, '12.75')).toEqual({ ok: true, value: '12.75' })
    expect(checkValue(number, '-3')).toEqual({ ok: false, problem: 'negative' })
    expect(checkValue({ ...number, allow_negative: true }, '-3')).toEqual({ ok: true, value: '-3' })
    expect(checkValue(number, 'twelve')).toEqual({ ok: false, problem: 'number' })
    expect(checkValue(number, '1,234')).toEqual({ ok: false, problem: 'number' })
    expect(checkValue(number, '1e3')).toEqual({ ok: false, problem: 'number' })
    expect(checkValue({ ...number, decimal_places: 1 }, '2.25')).toEqual({
      ok: false,
      problem: 'decimals',
      n: 1,
    })
    expect(checkValue({ ...number, decimal_places: 0 }, '2.5')).toEqual({
      ok: false,
      problem: 'wholeNumber',
    })
    expect(checkValue({ ...number, integer: true }, '2.0')).toEqual({
      ok: false,
      problem: 'wholeNumber',
    })
    expect(checkValue({ ...number, integer: true }, 'x')).toEqual({
      ok: false,
      problem: 'wholeNumber',
    })
  })

  it('a decimal comma is read as a point in French, Spanish and German, not in English', () => {
    const number = { type: 'number', decimal_places: 2 }
    expect(checkValue(number, '1,5', 'fr')).toEqual({ ok: true, value: '1.5' })
    expect(checkValue(number, '1,5', 'de')).toEqual({ ok: true, value: '1.5' })
    expect(checkValue(number, '1,5', 'en')).toEqual({ ok: false, problem: 'number' })
    expect(checkValue(number, '1.234,5', 'de')).toEqual({ ok: false, problem: 'number' })
  })

  it('currency: decimals and integer as for numbers; the sign is left to CC', () => {
    const currency = { type: 'currency', decimal_places: 2 }
    expect(checkValue(currency, '-19.99')).toEqual({ ok: true, value: '-19.99' })
    expect(checkValue(currency, '19.999')).toEqual({ ok: false, problem: 'decimals', n: 2 })
  })

  it('types with no documented format for sign_up_form are text', () => {
    for (const type of ['string', 'text_area', 'date', 'datetime', '']) {
      expect(checkValue({ type }, 'anything at all, 2020-13-45')).toEqual({
        ok: true,
        value: 'anything at all, 2020-13-45',
      })
    }
    expect(checkValue(undefined, 'x')).toEqual({ ok: true, value: 'x' })
  })

  it('selects cannot be set through sign_up_form', () => {
    expect(signupFormCanSet('single_select')).toBe(false)
    expect(signupFormCanSet('multi_select')).toBe(false)
    expect(signupFormCanSet('boolean')).toBe(true)
  })
})
