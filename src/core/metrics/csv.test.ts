import { describe, expect, it } from 'vitest'
import { toCsv } from './csv.ts'

describe('toCsv', () => {
  it('writes CRLF lines, quoting cells with commas, quotes or line breaks', () => {
    expect(
      toCsv([
        ['a', 1, null],
        ['x,y', 'say "hi"', 'two\nlines'],
      ])
    ).toBe('a,1,\r\n"x,y","say ""hi""","two\nlines"\r\n')
  })

  it('neutralises cells a spreadsheet would run as a formula', () => {
    const cells = ['=HYPERLINK("http://evil")', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx']
    expect(toCsv([cells])).toBe(
      `"'=HYPERLINK(""http://evil"")",'+1,'-2+3,'@SUM(A1),'\tx,"'\rx"\r\n`
    )
    // Numbers are data, not text someone typed.
    expect(toCsv([[-5, 'a-b', 'j•••e@example.com']])).toBe('-5,a-b,j•••e@example.com\r\n')
  })
})
