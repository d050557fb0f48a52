import { describe, expect, it } from 'vitest'
import { toCsv } from '../metrics/csv.ts'
import { type ConsentReceipt, RECEIPT_COLUMNS, receiptRow, receiptView } from './receipt.ts'

const receipt: ConsentReceipt = {
  form: 'newsletter',
  email: 'ada@example.com',
  givenAt: Date.UTC(2030, 0, 1, 12, 0, 0, 5),
  text: 'I agree to receive the newsletter.',
  textSha256: 'a'.repeat(64),
  origin: 'https://site.test',
  page: null,
  network: '203.0.113.7',
}

describe('receiptView and receiptRow', () => {
  it('shows a receipt in the API’s columns, the time in ISO 8601 UTC', () => {
    expect(receiptView(receipt)).toEqual({
      form: 'newsletter',
      email: 'ada@example.com',
      given_at: '2030-01-01T12:00:00.005Z',
      text: 'I agree to receive the newsletter.',
      text_sha256: 'a'.repeat(64),
      origin: 'https://site.test',
      page: null,
      network: '203.0.113.7',
    })
    expect(Object.keys(receiptView(receipt))).toEqual([...RECEIPT_COLUMNS])
  })

  it('makes a CSV row of the same values, in the same order', () => {
    expect(receiptRow(receipt)).toEqual(Object.values(receiptView(receipt)))
    // A statement that looks like a formula stays text in a spreadsheet (metrics/csv.ts).
    const formula = { ...receipt, text: '=HYPERLINK("https://evil.test")' }
    expect(toCsv([receiptRow(formula)])).toContain(`"'=HYPERLINK(""https://evil.test"")"`)
  })
})
