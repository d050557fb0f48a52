import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  classifyApiResponse,
  createTagRequest,
  type Exchanged,
  exchange,
  processAccountSummary,
  processApiResponse,
  processCreatedTag,
  processCustomFieldsPage,
  processListsPage,
  processTagsPage,
  processTokenResponse,
  taggingRequest,
  tokenRequest,
} from './client.ts'

const NOW = Date.UTC(2031, 0, 6, 9)
const API = 'https://api.cc.test/v3'
const answered = (body: unknown, status = 200): Exchanged => ({
  ok: true,
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

describe('tokenRequest', () => {
  const client = {
    CC_CLIENT_ID: 'id:1',
    CC_CLIENT_SECRET: undefined,
    CC_TOKEN_URL: 'https://authz.cc.test/token',
  }

  it('a public client sends client_id in the form body and no Authorization', async () => {
    const req = tokenRequest(client, { grant_type: 'refresh_token', refresh_token: 'r' })
    expect(req.method).toBe('POST')
    expect(req.headers.get('authorization')).toBeNull()
    expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(await req.text()))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r',
      client_id: 'id:1',
    })
  })

  it('a confidential client authenticates with HTTP Basic, the id and secret encoded', async () => {
    const req = tokenRequest(
      { ...client, CC_CLIENT_SECRET: 's3cret' },
      { grant_type: 'authorization_code', code: 'c', redirect_uri: 'https://r/cb' }
    )
    expect(req.headers.get('authorization')).toBe(`Basic ${btoa('id%3A1:s3cret')}`)
    expect(new URLSearchParams(await req.text()).has('client_id')).toBe(false)
  })

  it('encodes the Basic id and secret form-urlencoded (RFC 6749 §2.3.1), not as URI components', () => {
    const req = tokenRequest(
      { ...client, CC_CLIENT_ID: 'my app', CC_CLIENT_SECRET: "pa ss!*~'()" },
      { grant_type: 'refresh_token', refresh_token: 'r' }
    )
    // A space is '+', and !~'() are escaped; encodeURIComponent would give %20 and leave them.
    expect(req.headers.get('authorization')).toBe(`Basic ${btoa('my+app:pa+ss%21*%7E%27%28%29')}`)
  })

  it('sends the PKCE verifier with a code, for a confidential client too', async () => {
    const req = tokenRequest(
      { ...client, CC_CLIENT_SECRET: 's3cret' },
      {
        grant_type: 'authorization_code',
        code: 'c',
        redirect_uri: 'https://r/cb',
        code_verifier: 'v',
      }
    )
    expect(new URLSearchParams(await req.text()).get('code_verifier')).toBe('v')
  })
})

describe('processTokenResponse', () => {
  it('takes exp and sub from the access token (a JWT)', async () => {
    const iat = Math.floor(NOW / 1000)
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('owner-1')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(new TextEncoder().encode('k'))
    const result = processTokenResponse(
      answered({
        access_token: jwt,
        token_type: 'Bearer',
        expires_in: 86_400,
        refresh_token: 'r2',
      }),
      NOW
    )
    expect(result).toEqual({
      ok: true,
      tokens: {
        accessToken: jwt,
        refreshToken: 'r2',
        expiresAt: NOW + 3_600_000,
        scope: '',
        sub: 'owner-1',
      },
    })
  })

  it('falls back to expires_in, then to 24 h; keeps the refresh token it used when none returns', async () => {
    const a = processTokenResponse(
      answered({ access_token: 'opaque', token_type: 'bearer', expires_in: 60 }),
      NOW,
      'used-refresh'
    )
    expect(a).toMatchObject({
      ok: true,
      tokens: { expiresAt: NOW + 60_000, refreshToken: 'used-refresh' },
    })
    const b = processTokenResponse(answered({ access_token: 'x', token_type: 'Bearer' }), NOW)
    expect(b).toMatchObject({ ok: true, tokens: { expiresAt: NOW + 86_400_000 } })
  })

  it.each([
    [answered({ error: 'invalid_grant', error_description: 'gone' }, 400), 'invalid_grant'],
    [answered({ error: 'invalid_client' }, 401), 'rejected'],
    [answered({ error: 'unsupported_grant_type' }, 400), 'rejected'],
    [answered({ error: 'server_error' }, 500), 'transient'],
    [answered({ error: 'slow_down' }, 429), 'transient'],
    // A proxy's or WAF's page, with no OAuth error: not final, the app is not refused.
    [answered('<html>Access denied</html>', 403), 'transient'],
    // A 2xx we cannot read may have rotated the refresh token: its outcome is unknown.
    [answered('<html>upstream</html>', 200), 'lost'],
    [answered({ access_token: 'x', token_type: 'mac' }, 200), 'lost'],
    [{ ok: false, error: 'TypeError: connection reset' } as Exchanged, 'lost'],
  ])('%#: classifies as %s', async (answer, kind) => {
    const result = processTokenResponse(answer, NOW)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.kind).toBe(kind)
  })
})

describe('classifyApiResponse', () => {
  it.each([
    [201, { contact_id: 'c', action: 'created' }, 'delivered'],
    [200, { contact_id: 'c', action: 'updated' }, 'delivered'],
    [401, { error_key: 'unauthorized' }, 'unauthorized'],
    [429, { error_key: 'throttled' }, 'throttled'],
    [429, { error_key: 'quota_exceeded' }, 'quota_exceeded'],
    [429, undefined, 'throttled'],
    [500, [{ error_key: 'server_error' }], 'retry'],
    [503, undefined, 'retry'],
    [409, [{ error_key: 'conflict' }], 'retry'],
    [408, undefined, 'retry'],
    [400, [{ error_key: 'contacts.api.validation.error', error_message: 'bad list' }], 'dead'],
    [403, [{ error_key: 'forbidden', error_message: 'Missing scope' }], 'forbidden'],
    [404, [{ error_key: 'not_found' }], 'dead'],
  ])('%i %j → %s', (status, body, kind) => {
    expect(classifyApiResponse(status, body).kind).toBe(kind)
  })

  it("keeps sign_up_form's contact_id, which a tagging needs", () => {
    expect(classifyApiResponse(201, { contact_id: 'c1', action: 'created' })).toMatchObject({
      kind: 'delivered',
      contactId: 'c1',
    })
    // A tagging activity's answer names no contact; neither does an unreadable 2xx.
    expect(classifyApiResponse(201, { activity_id: 'a' })).toMatchObject({ kind: 'delivered' })
    expect(classifyApiResponse(201, 'x')).toEqual({ kind: 'delivered', status: 201 })
  })

  it('reads the error key and message from the array and the single-object shapes', () => {
    expect(classifyApiResponse(400, [{ error_key: 'k', error_message: 'm' }])).toEqual({
      kind: 'dead',
      status: 400,
      errorKey: 'k',
      message: 'm',
    })
    expect(classifyApiResponse(400, 'not json')).toMatchObject({ errorKey: 'unknown' })
  })

  it('no answer at all is worth retrying', async () => {
    const { outcome } = processApiResponse({ ok: false, error: 'timeout' })
    expect(outcome).toEqual({
      kind: 'retry',
      status: 0,
      errorKey: 'network_error',
      message: 'timeout',
    })
  })
})

describe('exchange', () => {
  it('reads the whole body, and a failure while reading counts as no answer', async () => {
    const broken: typeof fetch = async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"partial'))
            controller.error(new Error('reset mid-body'))
          },
        })
      )
    const result = await exchange(broken, new Request('https://api.cc.test/v3/x'), 1000)
    expect(result).toMatchObject({ ok: false })
    const whole = await exchange(
      async () => Response.json({ a: 1 }),
      new Request('https://x.test'),
      1000
    )
    expect(whole).toEqual({ ok: true, status: 200, body: '{"a":1}' })
  })

  it('gives up after the timeout', async () => {
    const never: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const result = await exchange(never, new Request('https://x.test'), 5)
    expect(result).toMatchObject({ ok: false })
    expect(!result.ok && result.error).toContain('TimeoutError')
  })
})

describe('tags', () => {
  it('a tagging adds the tag ids to the contact ids, as one bulk activity', async () => {
    const req = taggingRequest(API, 'tok', { contactIds: ['c1', 'c2'], tagIds: ['t1'] })
    expect([req.method, req.url]).toEqual(['POST', `${API}/activities/contacts_taggings_add`])
    expect(req.headers.get('authorization')).toBe('Bearer tok')
    expect(req.headers.get('content-type')).toBe('application/json')
    expect(await req.json()).toEqual({ source: { contact_ids: ['c1', 'c2'] }, tag_ids: ['t1'] })
  })

  it('a new tag is a POST of its name; the answer gives its id', async () => {
    const req = createTagRequest(API, 'tok', 'Bakers')
    expect([req.method, req.url]).toEqual(['POST', `${API}/contact_tags`])
    expect(await req.json()).toEqual({ name: 'Bakers' })
    expect(
      processCreatedTag({ tag_id: 't', name: 'Bakers', tag_source: 'x', created_at: '2031' })
    ).toEqual({ tag_id: 't', name: 'Bakers' })
    expect(processCreatedTag([{ error_key: 'conflict' }])).toBeNull()
  })

  it('tag pages keep the id and the name, and follow the next link', () => {
    expect(
      processTagsPage(API, {
        tags: [{ tag_id: 't', name: 'T', contacts_count: 2 }],
        _links: { next: { href: '/v3/contact_tags?cursor=2' } },
      })
    ).toEqual({
      items: [{ tag_id: 't', name: 'T' }],
      next: 'https://api.cc.test/v3/contact_tags?cursor=2',
    })
    expect(processTagsPage(API, { lists: [] })).toBeNull()
  })
})

describe('pages', () => {
  it('follows a relative next link on the API origin, never another origin', () => {
    expect(
      processListsPage(API, {
        lists: [{ list_id: 'a', name: 'A', membership_count: 3 }],
        _links: { next: { href: '/v3/contact_lists?cursor=2' } },
      })
    ).toEqual({
      items: [{ list_id: 'a', name: 'A' }],
      next: 'https://api.cc.test/v3/contact_lists?cursor=2',
    })
    expect(
      processListsPage(API, { lists: [], _links: { next: { href: 'https://evil.test/x' } } })?.next
    ).toBeNull()
    expect(processListsPage(API, { nope: 1 })).toBeNull()
  })

  it('custom fields keep their type; the label falls back to the name', () => {
    expect(
      processCustomFieldsPage(API, {
        custom_fields: [{ custom_field_id: 'f', name: 'birthday_cake', type: 'date' }],
      })
    ).toEqual({
      items: [
        { custom_field_id: 'f', name: 'birthday_cake', label: 'birthday_cake', type: 'date' },
      ],
      next: null,
    })
  })

  it('custom fields keep the metadata field-types.ts reads, each only when it is well typed', () => {
    const page = processCustomFieldsPage(API, {
      custom_fields: [
        {
          custom_field_id: 'n',
          label: 'Visits',
          type: 'number',
          metadata: { allow_negative: false, decimal_places: 2, display_type: 'x' },
        },
        { custom_field_id: 'c', label: 'Budget', type: 'currency', metadata: { integer: true } },
        { custom_field_id: 'w', label: 'Odd', type: 'number', metadata: { decimal_places: 'two' } },
      ],
    })
    expect(page?.items.map((f) => f.metadata)).toEqual([
      { allow_negative: false, decimal_places: 2 },
      { integer: true },
      undefined,
    ])
  })

  it('the account summary keeps only its name, id and time zone', () => {
    expect(
      processAccountSummary({
        organization_name: 'Bakery',
        encoded_account_id: 'e1',
        contact_email: 'owner@example.com',
        time_zone_id: 'Europe/Paris',
      })
    ).toEqual({
      organization_name: 'Bakery',
      encoded_account_id: 'e1',
      time_zone_id: 'Europe/Paris',
    })
    expect(processAccountSummary('x')).toBeNull()
  })
})
