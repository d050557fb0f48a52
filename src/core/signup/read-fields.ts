/**
 * @module core/signup/read-fields
 * Reads a sign-up body into `Fields`, from a plain HTML form (urlencoded or multipart) or JSON.
 * The size limit applies to the bytes actually read, not `Content-Length`, which is optional and
 * can lie on this public endpoint.
 */

/** Generous for any sign-up form or owner action, small enough to bound parsing work. */
export const MAX_BODY_BYTES = 16 * 1024

/** Every field is a list, so repeatable fields (`list`) and single ones share one shape. */
export type Fields = Record<string, string[]>

export type ReadError = 'payload_too_large' | 'unsupported_media_type' | 'invalid_input'

export type ReadResult =
  | { ok: true; fields: Fields; json: boolean }
  | { ok: false; error: ReadError; message: string }

type MediaType = 'urlencoded' | 'multipart' | 'json'

const MEDIA_TYPES: Record<string, MediaType> = {
  'application/x-www-form-urlencoded': 'urlencoded',
  'multipart/form-data': 'multipart',
  'application/json': 'json',
}

class InputError extends Error {}

/**
 * `emptyAllowed`: a request with no Content-Type and no body reads as no fields (a script's
 * `POST /admin/disconnect`); with a body it is still 415. Either way the bound comes first.
 */
export async function readFields(
  request: Request,
  options: { maxBytes: number; emptyAllowed?: boolean }
): Promise<ReadResult> {
  const contentType = request.headers.get('content-type') ?? ''
  const semicolon = contentType.indexOf(';')
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon))
    .trim()
    .toLowerCase()
  const media = Object.hasOwn(MEDIA_TYPES, essence) ? MEDIA_TYPES[essence] : undefined
  const unsupported = () =>
    fail(
      'unsupported_media_type',
      'Send the form as application/x-www-form-urlencoded, multipart/form-data or application/json.'
    )
  if (!media && !(options.emptyAllowed && !contentType)) return unsupported()

  const tooLarge = `The request body is larger than ${options.maxBytes} bytes.`
  const declared = request.headers.get('content-length')
  if (declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > options.maxBytes) {
    return fail('payload_too_large', tooLarge)
  }

  let bytes: Uint8Array | undefined
  try {
    bytes = await readBounded(request.body, options.maxBytes)
  } catch {
    return fail('invalid_input', 'The request body could not be read.')
  }
  if (!bytes) return fail('payload_too_large', tooLarge)
  if (!media)
    return bytes.length === 0 ? { ok: true, fields: emptyFields(), json: false } : unsupported()

  try {
    if (media === 'urlencoded') return { ok: true, fields: parseUrlencoded(bytes), json: false }
    if (media === 'json') return { ok: true, fields: parseJson(bytes), json: true }
    // The parser is given the canonical essence so an odd-cased `Multipart/Form-Data` still parses.
    const canonical = `multipart/form-data${semicolon === -1 ? '' : contentType.slice(semicolon)}`
    return { ok: true, fields: await parseMultipart(bytes, canonical), json: false }
  } catch (error) {
    if (error instanceof InputError) return fail('invalid_input', error.message)
    throw error
  }
}

function fail(error: ReadError, message: string): ReadResult {
  return { ok: false, error, message }
}

/**
 * Reads the whole body, or returns undefined as soon as it passes `maxBytes`, cancelling the rest
 * of the upload instead of buffering it.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number
): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** Null prototype, so a field named `__proto__` or `constructor` is just a field. */
function emptyFields(): Fields {
  return Object.create(null) as Fields
}

function add(fields: Fields, name: string, value: string): void {
  const list = fields[name]
  if (list) list.push(value)
  else fields[name] = [value]
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw new InputError('The request body is not valid UTF-8.')
  }
}

/**
 * WHATWG urlencoded parsing done on bytes: `URLSearchParams` would silently turn invalid UTF-8
 * (raw, or percent-encoded like `%FF`) into U+FFFD, and that would then reach Constant Contact.
 */
function parseUrlencoded(bytes: Uint8Array): Fields {
  const fields = emptyFields()
  let start = 0
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start) // &
    if (end === -1) end = bytes.length
    if (end > start) {
      const pair = bytes.subarray(start, end)
      const eq = pair.indexOf(0x3d) // =
      const name = eq === -1 ? pair : pair.subarray(0, eq)
      const value = eq === -1 ? new Uint8Array(0) : pair.subarray(eq + 1)
      add(fields, decodeUtf8(percentDecode(name)), decodeUtf8(percentDecode(value)))
    }
    start = end + 1
  }
  return fields
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  return -1
}

function percentDecode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length)
  let length = 0
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]
    if (byte === 0x2b) {
      out[length++] = 0x20 // + is a space in forms
    } else if (byte === 0x25 && i + 2 < input.length) {
      const high = hexValue(input[i + 1])
      const low = hexValue(input[i + 2])
      if (high === -1 || low === -1) {
        out[length++] = byte
      } else {
        out[length++] = high * 16 + low
        i += 2
      }
    } else {
      out[length++] = byte
    }
  }
  return out.subarray(0, length)
}

function parseJson(bytes: Uint8Array): Fields {
  let data: unknown
  try {
    data = JSON.parse(decodeUtf8(bytes))
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError('The request body is not valid JSON.')
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError('The JSON body must be an object of field names to values.')
  }
  const fields = emptyFields()
  for (const [key, value] of Object.entries(data)) {
    if (key === 'custom' && isPlainObject(value)) {
      // `custom` is the one object allowed, so a script can send {"custom": {"source": "x"}}
      // instead of the HTML-form spelling "custom.source".
      for (const [alias, inner] of Object.entries(value)) {
        addJsonValue(fields, `custom.${alias}`, inner)
      }
    } else {
      addJsonValue(fields, key, value)
    }
  }
  return fields
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function addJsonValue(fields: Fields, name: string, value: unknown): void {
  if (value === null) return
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    add(fields, name, String(value))
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string' && typeof item !== 'number') {
        throw new InputError(`The JSON field "${name}" must hold strings or numbers only.`)
      }
    }
    for (const item of value) add(fields, name, String(item))
    return
  }
  throw new InputError(`The JSON field "${name}" must be a string, number, boolean or list.`)
}

async function parseMultipart(bytes: Uint8Array, contentType: string): Promise<Fields> {
  let form: FormData
  try {
    // Deno's lib types do not take a Uint8Array<ArrayBufferLike> as a BodyInit; the bytes are fine.
    const body = bytes as BufferSource
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData()
  } catch {
    throw new InputError('The multipart/form-data body is malformed.')
  }
  const fields = emptyFields()
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') throw new InputError('File uploads are not accepted.')
    add(fields, name, value)
  }
  // The multipart parser decodes text leniently (invalid bytes become U+FFFD). With file parts
  // ruled out above, every byte of a valid body is UTF-8 text, so checking the whole body is exact.
  decodeUtf8(bytes)
  return fields
}
