import { describe, expect, it } from 'vitest'
import type { Config } from '../app/config.ts'
import type { FormProfile } from '../forms/profile.ts'
import type { StoredForm } from '../forms/repo.ts'
import { NO_ORIGIN, OTHER_ORIGINS, type RefusedOrigin } from './refusals.ts'
import {
  FormRefusedOrigins,
  formsOriginsChange,
  type RefusalLine,
  RefusedOriginsOverview,
  refusalLines,
} from './refused-origins.tsx'

const profile = (origins: string[]) => ({ lists: [], origins }) as unknown as FormProfile
const config = { FORMS: { news: profile(['https://site.test']) } } as unknown as Config
const stored = (id: string, origins: string[]): StoredForm => ({
  id,
  profile: profile(origins),
  types: {},
  revision: 1,
  updatedAt: 0,
})
const AT = '2030-01-02T12:00:00.000Z'
const refused = (form_id: string, origin: string, today = 3): RefusedOrigin => ({
  form_id,
  origin,
  today,
  yesterday: 0,
  last_at: AT,
})
const html = (node: unknown) => String(node)

describe('refusalLines', () => {
  it('keeps what is still refused, with where the form lives and its origins now', () => {
    const lines = refusalLines(
      [
        refused('news', 'https://www.example.com'),
        refused('spring', 'https://blog.test'),
        // Resolved: the form allows it now.
        refused('spring', 'https://spring.test'),
        // The form is gone.
        refused('deleted', 'https://x.test'),
      ],
      config,
      [stored('spring', ['https://spring.test']), stored('news', ['https://ignored.test'])]
    )
    expect(lines).toEqual([
      {
        ...refused('news', 'https://www.example.com'),
        source: 'config',
        form_origins: ['https://site.test'],
      },
      {
        ...refused('spring', 'https://blog.test'),
        source: 'dashboard',
        form_origins: ['https://spring.test'],
      },
    ])
  })
})

describe('formsOriginsChange', () => {
  it('is the form’s origins with the new one added, as JSON to paste', () => {
    expect(formsOriginsChange(['https://site.test'], 'https://www.example.com')).toBe(
      '"origins": [\n  "https://site.test",\n  "https://www.example.com"\n]'
    )
  })
})

const line = (over: Partial<RefusalLine>): RefusalLine => ({
  ...refused('spring', 'https://blog.test'),
  source: 'dashboard',
  form_origins: ['https://spring.test'],
  ...over,
})

const NAMES = new Map([['spring', 'Spring sale']])

describe('RefusedOriginsOverview and FormRefusedOrigins', () => {
  it('render nothing without refusals', () => {
    expect(html(RefusedOriginsOverview({ lines: [], formNames: NAMES }))).toBe('')
    expect(html(FormRefusedOrigins({ formId: 'spring', lines: [line({})] }))).not.toBe('')
    expect(html(FormRefusedOrigins({ formId: 'other', lines: [line({})] }))).toBe('')
  })

  it('a dashboard form: the line, a link to the form, and a one-click Add (a POST form)', () => {
    const out = html(
      RefusedOriginsOverview({ lines: [line({ yesterday: 2 })], zone: 'UTC', formNames: NAMES })
    )
    expect(out).toContain(
      'Refused from <code>https://blog.test</code></strong> (3× today, 2× yesterday)'
    )
    // The form by the name its owner gave it.
    expect(out).toContain('<a href="/admin/forms/spring">Spring sale</a>')
    expect(out).toContain('<form method="post" action="/admin/forms/spring/origins">')
    expect(out).toContain('<input type="hidden" name="origin" value="https://blog.test"/>')
    expect(out).toContain('Add to this form&#39;s origins')
    expect(out).toContain(`<time datetime="${AT}">`)
    // The form's own page does not link to itself.
    expect(html(FormRefusedOrigins({ formId: 'spring', lines: [line({})] }))).not.toContain(
      'href="/admin/forms/spring"'
    )
  })

  it('a FORMS form: the exact change to make, and that it takes a redeploy; no button', () => {
    const out = html(
      FormRefusedOrigins({
        formId: 'news',
        lines: [line({ form_id: 'news', source: 'config', form_origins: ['https://site.test'] })],
      })
    )
    expect(out).not.toContain('<form')
    expect(out).toContain('&quot;https://site.test&quot;,\n  &quot;https://blog.test&quot;')
    expect(out).toContain('redeploy')
  })

  it('no origin, too many origins, junk: said in words, nothing to add; all of it escaped', () => {
    const out = html(
      RefusedOriginsOverview({
        formNames: NAMES,
        lines: [
          line({ origin: NO_ORIGIN, today: 0, yesterday: 4 }),
          line({ origin: OTHER_ORIGINS }),
          line({ origin: '<script>alert(1)</script>' }),
        ],
      })
    )
    expect(out).toContain(
      'Refused from a page with no origin (file:// or privacy settings)</strong> (4× yesterday)'
    )
    expect(out).toContain('Refused from other origins (more than 20 different ones in a day)')
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(out).not.toContain('<script>')
    expect(out).not.toContain('<form')
  })
})
