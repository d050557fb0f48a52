import { describe, expect, it } from 'vitest'
import { readFields } from './read-fields.ts'

const URL_ = 'https://relay.test/f/newsletter'
const FORM = 'application/x-www-form-urlencoded'
const MAX = 1024

function post(body: BodyInit | null, contentType?: string, headers: Record<string, string> = {}) {
  return new Request(URL_, {
    method: 'POST',
    body,
    headers: contentType === undefined ? headers : { 'content-type': contentType, ...headers },
  })
}

const read = (request: Request, maxBytes = MAX) => readFields(request, { maxBytes })

/** A body with no Content-Length at all, as a chunked upload has. */
function streamPost(chunks: Uint8Array[] | (() => Uint8Array), contentType = FORM) {
  let index = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (typeof chunks === 'function') {
        controller.enqueue(chunks())
      } else if (index < chunks.length) {
        controller.enqueue(chunks[index++])
      } else {
        controller.close()
      }
    },
  })
  const init = { method: 'POST', body, headers: { 'content-type': contentType }, duplex: 'half' }
  return new Request(URL_, init as RequestInit)
}

const bytes = (...values: number[]) => new Uint8Array(values)
const utf8 = (s: string) => new TextEncoder().encode(s)

function multipart(parts: string[], boundary = 'XyZbOuNdArY') {
  const body = `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`
  return { body, type: `multipart/form-data; boundary=${boundary}` }
}

const part = (name: string, value: string) =>
  `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`

describe('readFields: media types', () => {
  it('reads urlencoded fields, keeping repeats as lists', async () => {
    const result = await read(
      post('email=Ann%40Site.test&list=a&list=b&first_name=J%C3%B6rg+M&empty=&flag', FORM)
    )
    expect(result).toEqual({
      ok: true,
      json: false,
      fields: {
        email: ['Ann@Site.test'],
        list: ['a', 'b'],
        first_name: ['Jörg M'],
        empty: [''],
        flag: [''],
      },
    })
  })

  it('reads urlencoded the WHATWG way: stray % kept, empty pairs skipped, = in values kept', async () => {
    const result = await read(post('a=100%&&b=%zz&c=x=y&%41=1&', FORM))
    expect(result).toEqual({
      ok: true,
      json: false,
      fields: { a: ['100%'], b: ['%zz'], c: ['x=y'], A: ['1'] },
    })
  })

  it('reads raw UTF-8 bytes in urlencoded bodies', async () => {
    const result = await read(post(utf8('first_name=Zoë&city=東京'), FORM))
    expect(result).toEqual({
      ok: true,
      json: false,
      fields: { first_name: ['Zoë'], city: ['東京'] },
    })
  })

  it('ignores content-type parameters and case', async () => {
    const result = await read(post('email=a', 'Application/X-WWW-Form-URLEncoded ; charset=UTF-8'))
    expect(result).toEqual({ ok: true, json: false, fields: { email: ['a'] } })
  })

  it('treats an empty urlencoded body as no fields', async () => {
    expect(await read(post('', FORM))).toEqual({ ok: true, json: false, fields: {} })
    expect(await read(post(null, FORM))).toEqual({ ok: true, json: false, fields: {} })
  })

  it('reads multipart/form-data sent by FormData', async () => {
    const form = new FormData()
    form.append('email', 'ann@site.test')
    form.append('list', 'a')
    form.append('list', 'b')
    form.append('custom.source', 'Zoë')
    const result = await read(new Request(URL_, { method: 'POST', body: form }))
    expect(result).toEqual({
      ok: true,
      json: false,
      fields: { email: ['ann@site.test'], list: ['a', 'b'], 'custom.source': ['Zoë'] },
    })
  })

  it('reads multipart with an odd-cased media type', async () => {
    const { body } = multipart([part('email', 'ann@site.test'), part('list', 'a')])
    const result = await read(post(body, 'Multipart/Form-Data; boundary=XyZbOuNdArY'))
    expect(result).toEqual({
      ok: true,
      json: false,
      fields: { email: ['ann@site.test'], list: ['a'] },
    })
  })

  it('reads JSON objects, mapping scalars, arrays, null and custom', async () => {
    const result = await read(
      post(
        JSON.stringify({
          email: 'ann@site.test',
          birthday_month: 3,
          subscribed: true,
          off: false,
          list: ['a', 'b', 7],
          empty_list: [],
          phone_number: null,
          custom: { source: 'x', count: 2, gone: null, tags: ['p', 'q'] },
          'custom.flat': 'y',
        }),
        'application/json'
      )
    )
    expect(result).toEqual({
      ok: true,
      json: true,
      fields: {
        email: ['ann@site.test'],
        birthday_month: ['3'],
        subscribed: ['true'],
        off: ['false'],
        list: ['a', 'b', '7'],
        'custom.source': ['x'],
        'custom.count': ['2'],
        'custom.tags': ['p', 'q'],
        'custom.flat': ['y'],
      },
    })
  })

  it('reads JSON with a charset parameter', async () => {
    const result = await read(post('{"email":"a"}', 'application/json; charset=utf-8'))
    expect(result).toEqual({ ok: true, json: true, fields: { email: ['a'] } })
  })

  it('keeps a field named __proto__ as data, not as a prototype', async () => {
    const result = await read(post('{"__proto__":"x","constructor":"y"}', 'application/json'))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(Object.getPrototypeOf(result.fields)).toBe(null)
    expect(Object.entries(result.fields)).toEqual([
      ['__proto__', ['x']],
      ['constructor', ['y']],
    ])
  })

  it.each([
    ['text/plain', 'email=a'],
    ['application/jsonx', '{}'],
    ['application/xml', '<a/>'],
    ['multipart/mixed; boundary=x', '--x--'],
    [undefined, 'email=a'],
  ])('rejects content type %s as unsupported_media_type', async (type, body) => {
    const result = await read(post(body, type))
    expect(result).toEqual({
      ok: false,
      error: 'unsupported_media_type',
      message: expect.stringContaining('application/x-www-form-urlencoded'),
    })
  })
})

describe('readFields: size bound', () => {
  const tooLarge = {
    ok: false,
    error: 'payload_too_large',
    message: 'The request body is larger than 1024 bytes.',
  }

  it('rejects on Content-Length alone, before reading', async () => {
    const result = await read(post('email=a', FORM, { 'content-length': '1025' }))
    expect(result).toEqual(tooLarge)
  })

  it('accepts a body of exactly maxBytes and rejects one byte more', async () => {
    const exact = `a=${'x'.repeat(MAX - 2)}`
    expect(await read(post(exact, FORM))).toEqual({
      ok: true,
      json: false,
      fields: { a: ['x'.repeat(MAX - 2)] },
    })
    expect(await read(post(`${exact}x`, FORM))).toEqual(tooLarge)
  })

  it('counts the bytes actually sent when Content-Length lies', async () => {
    const result = await read(post(`a=${'x'.repeat(4000)}`, FORM, { 'content-length': '10' }))
    expect(result).toEqual(tooLarge)
  })

  it('counts a chunked stream with no Content-Length', async () => {
    const request = streamPost([utf8('a='), new Uint8Array(600).fill(0x78), utf8('x'.repeat(600))])
    expect(request.headers.get('content-length')).toBe(null)
    expect(await read(request)).toEqual(tooLarge)
  })

  it('stops reading an endless stream as soon as it passes the bound', async () => {
    let pulls = 0
    const request = streamPost(() => {
      pulls++
      return new Uint8Array(100).fill(0x78)
    })
    expect(await read(request)).toEqual(tooLarge)
    expect(pulls).toBeLessThan(20)
  })

  it('reads a chunked stream within the bound, even with a multi-byte character split', async () => {
    const encoded = utf8('first_name=Zoë')
    const request = streamPost([encoded.subarray(0, 13), encoded.subarray(13)])
    expect(await read(request)).toEqual({ ok: true, json: false, fields: { first_name: ['Zoë'] } })
  })

  it('reports a body stream that fails mid-way as invalid_input', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(utf8('a=1'))
        controller.error(new Error('connection reset'))
      },
    })
    const init = { method: 'POST', body, headers: { 'content-type': FORM }, duplex: 'half' }
    expect(await read(new Request(URL_, init as RequestInit))).toEqual({
      ok: false,
      error: 'invalid_input',
      message: 'The request body could not be read.',
    })
  })
})

describe('readFields: bad encodings', () => {
  const invalid = (message: string | unknown) => ({ ok: false, error: 'invalid_input', message })
  const badUtf8 = invalid('The request body is not valid UTF-8.')

  it('rejects invalid UTF-8 bytes in urlencoded bodies', async () => {
    expect(await read(post(bytes(0x61, 0x3d, 0xff, 0xfe), FORM))).toEqual(badUtf8)
  })

  it('rejects percent-encoded invalid UTF-8 that URLSearchParams would hide', async () => {
    expect(await read(post('first_name=%C3%28', FORM))).toEqual(badUtf8)
    expect(await read(post('%FF=1', FORM))).toEqual(badUtf8)
  })

  it('rejects invalid UTF-8 in JSON', async () => {
    const body = new Uint8Array([...utf8('{"email":"'), 0xc0, 0xaf, ...utf8('"}')])
    expect(await read(post(body, 'application/json'))).toEqual(badUtf8)
  })

  it('rejects invalid UTF-8 in a multipart text field', async () => {
    const { body, type } = multipart([part('first_name', '\u0000')])
    const raw = utf8(body)
    raw[raw.indexOf(0)] = 0xff
    expect(await read(post(raw, type))).toEqual(badUtf8)
  })

  it.each([['{"email":"a",}'], ['{email:"a"}'], [''], ['{"email":']])(
    'rejects malformed JSON %j',
    async (body) => {
      expect(await read(post(body, 'application/json'))).toEqual(
        invalid('The request body is not valid JSON.')
      )
    }
  )

  it.each([['[{"email":"a"}]'], ['"a@b.test"'], ['null'], ['42']])(
    'rejects a JSON top level that is not an object: %s',
    async (body) => {
      expect(await read(post(body, 'application/json'))).toEqual(
        invalid('The JSON body must be an object of field names to values.')
      )
    }
  )

  it('rejects nested objects other than custom, naming the key', async () => {
    expect(await read(post('{"email":"a","address":{"city":"x"}}', 'application/json'))).toEqual(
      invalid('The JSON field "address" must be a string, number, boolean or list.')
    )
  })

  it('allows only one level inside custom', async () => {
    expect(await read(post('{"custom":{"source":{"deep":"x"}}}', 'application/json'))).toEqual(
      invalid('The JSON field "custom.source" must be a string, number, boolean or list.')
    )
  })

  it('rejects arrays holding anything but strings and numbers', async () => {
    expect(await read(post('{"list":["a",{"b":1}]}', 'application/json'))).toEqual(
      invalid('The JSON field "list" must hold strings or numbers only.')
    )
    expect(await read(post('{"list":["a",null]}', 'application/json'))).toEqual(
      invalid('The JSON field "list" must hold strings or numbers only.')
    )
    expect(await read(post('{"list":[["a"]]}', 'application/json'))).toEqual(
      invalid('The JSON field "list" must hold strings or numbers only.')
    )
  })

  it('rejects multipart file uploads', async () => {
    const form = new FormData()
    form.append('email', 'ann@site.test')
    form.append('resume', new File(['hello'], 'cv.txt', { type: 'text/plain' }))
    expect(await read(new Request(URL_, { method: 'POST', body: form }))).toEqual(
      invalid('File uploads are not accepted.')
    )
  })

  it('rejects a file part even when it is binary', async () => {
    const { body, type } = multipart([
      'Content-Disposition: form-data; name="f"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\u0000',
    ])
    const raw = utf8(body)
    raw[raw.indexOf(0)] = 0xff
    expect(await read(post(raw, type))).toEqual(invalid('File uploads are not accepted.'))
  })

  it('rejects malformed multipart bodies', async () => {
    const malformed = invalid('The multipart/form-data body is malformed.')
    expect(await read(post('not multipart at all', 'multipart/form-data; boundary=abc'))).toEqual(
      malformed
    )
    const { body } = multipart([part('email', 'a')])
    expect(await read(post(body, 'multipart/form-data'))).toEqual(malformed)
  })
})
