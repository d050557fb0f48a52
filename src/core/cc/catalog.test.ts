import { describe, expect, it } from 'vitest'
import { checkProfiles, fetchCatalog, LIST_PAGE_SIZE } from './catalog.ts'

const API = 'https://api.cc.test/v3'

describe('fetchCatalog', () => {
  it('follows relative next links on the API origin and collects every page', async () => {
    const pages: Record<string, unknown> = {
      [`${API}/contact_lists?limit=500&status=active`]: {
        lists: [{ list_id: 'a', name: 'A' }],
        _links: { next: { href: '/v3/contact_lists?cursor=2' } },
      },
      'https://api.cc.test/v3/contact_lists?cursor=2': { lists: [{ list_id: 'b', name: 'B' }] },
      [`${API}/contact_custom_fields?limit=100`]: {
        custom_fields: [{ custom_field_id: 'f', name: 'source', label: 'Source' }],
      },
      [`${API}/contact_tags?limit=500`]: {
        tags: [{ tag_id: 't', name: 'Baker', contacts_count: 3 }],
        _links: { next: { href: '/v3/contact_tags?cursor=2' } },
      },
      'https://api.cc.test/v3/contact_tags?cursor=2': { tags: [{ tag_id: 'u', name: 'Cook' }] },
    }
    const requested: string[] = []
    const result = await fetchCatalog(
      API,
      async (url) => {
        requested.push(url)
        return { ok: true, value: pages[url] }
      },
      Date.UTC(2026, 0, 1)
    )
    expect(requested).toHaveLength(5)
    expect(result).toEqual({
      ok: true,
      value: {
        lists: [
          { list_id: 'a', name: 'A' },
          { list_id: 'b', name: 'B' },
        ],
        custom_fields: [{ custom_field_id: 'f', name: 'source', label: 'Source', type: '' }],
        tags: [
          { tag_id: 't', name: 'Baker' },
          { tag_id: 'u', name: 'Cook' },
        ],
        fetched_at: '2026-01-01T00:00:00.000Z',
      },
    })
  })

  it('never follows a next link to another origin', async () => {
    const requested: string[] = []
    await fetchCatalog(
      API,
      async (url) => {
        requested.push(url)
        return url.includes('contact_lists')
          ? { ok: true, value: { lists: [], _links: { next: { href: 'https://evil.test/x' } } } }
          : { ok: true, value: { custom_fields: [], tags: [] } }
      },
      0
    )
    expect(requested.every((u) => u.startsWith('https://api.cc.test/'))).toBe(true)
    expect(requested).toHaveLength(3)
  })

  it('asks for 500 lists a page (the documented maximum) and follows every next link', async () => {
    const requested: string[] = []
    const pages = 7 // far past the old cap of 10 × 50 lists, had the pages been that small
    await fetchCatalog(
      API,
      async (url) => {
        requested.push(url)
        const n = requested.length
        return url.includes('contact_lists')
          ? {
              ok: true,
              value: {
                lists: [{ list_id: `l${n}`, name: `L${n}` }],
                _links: n < pages ? { next: { href: `/v3/contact_lists?cursor=${n}` } } : {},
              },
            }
          : { ok: true, value: { custom_fields: [], tags: [] } }
      },
      0
    )
    expect(requested[0]).toBe(`${API}/contact_lists?limit=${LIST_PAGE_SIZE}&status=active`)
    expect(LIST_PAGE_SIZE).toBe(500)
    expect(requested.filter((u) => u.includes('contact_lists'))).toHaveLength(pages)
  })

  it('stops, with an error, at a next link that loops', async () => {
    const result = await fetchCatalog(
      API,
      async () => ({
        ok: true,
        value: { lists: [], _links: { next: { href: '/v3/contact_lists?cursor=same' } } },
      }),
      0
    )
    expect(result).toEqual({ ok: false, message: 'Constant Contact kept sending more pages' })
  })

  it('reports a malformed page instead of guessing', async () => {
    const result = await fetchCatalog(API, async () => ({ ok: true, value: { nope: 1 } }), 0)
    expect(result.ok).toBe(false)
  })
})

describe('checkProfiles', () => {
  it('flags list, custom field and tag ids the account does not have', () => {
    const catalog = {
      lists: [{ list_id: 'AAAAAAAA-0000-4000-8000-000000000001', name: 'News' }],
      custom_fields: [
        {
          custom_field_id: 'ffffffff-0000-4000-8000-000000000001',
          name: 's',
          label: 'S',
          type: '',
        },
      ],
      tags: [{ tag_id: 'CCCCCCCC-0000-4000-8000-000000000001', name: 'Baker' }],
      fetched_at: '',
    }
    const checks = checkProfiles(
      {
        ok: {
          lists: ['aaaaaaaa-0000-4000-8000-000000000001'],
          origins: ['https://a.test'],
          custom_fields: { source: 'ffffffff-0000-4000-8000-000000000001' },
          tags: ['cccccccc-0000-4000-8000-000000000001'],
          honeypot: '_gotcha',
        },
        drifted: {
          lists: ['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002'],
          origins: ['https://a.test'],
          custom_fields: { gone: 'eeeeeeee-0000-4000-8000-000000000009' },
          tags: ['cccccccc-0000-4000-8000-000000000001', 'dddddddd-0000-4000-8000-000000000009'],
          honeypot: '_gotcha',
        },
        choices: {
          lists: [],
          optional_lists: [
            'aaaaaaaa-0000-4000-8000-000000000001',
            'bbbbbbbb-0000-4000-8000-000000000003',
          ],
          origins: ['https://a.test'],
          capture: {
            page: 'ffffffff-0000-4000-8000-000000000001',
            referrer: 'eeeeeeee-0000-4000-8000-000000000008',
          },
          honeypot: '_gotcha',
        },
      },
      catalog
    )
    expect(checks).toEqual([
      {
        form_id: 'ok',
        unknown_lists: [],
        unknown_custom_fields: [],
        unknown_tags: [],
        capture_problems: [],
      },
      {
        form_id: 'drifted',
        unknown_lists: ['bbbbbbbb-0000-4000-8000-000000000002'],
        unknown_custom_fields: [
          { alias: 'gone', custom_field_id: 'eeeeeeee-0000-4000-8000-000000000009' },
        ],
        unknown_tags: ['dddddddd-0000-4000-8000-000000000009'],
        capture_problems: [],
      },
      {
        // An optional list is a list too; a capture field must exist and take text ('' does not).
        form_id: 'choices',
        unknown_lists: ['bbbbbbbb-0000-4000-8000-000000000003'],
        unknown_custom_fields: [],
        unknown_tags: [],
        capture_problems: [
          {
            key: 'page',
            custom_field_id: 'ffffffff-0000-4000-8000-000000000001',
            problem: 'not_text',
          },
          {
            key: 'referrer',
            custom_field_id: 'eeeeeeee-0000-4000-8000-000000000008',
            problem: 'unknown',
          },
        ],
      },
    ])
  })
})
