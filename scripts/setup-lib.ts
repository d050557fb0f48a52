/**
 * @module setup-lib
 * The pure parts of `npm run setup`: argument parsing, answer checks, command builders and the
 * wrangler.toml edit. No I/O happens here (scripts/setup.ts prompts, writes and runs commands),
 * so every rule is covered by scripts/setup.test.ts with node:test.
 *
 * Form profiles are checked with the worker's own schemas (src/core/app/config.ts and
 * src/core/forms/profile.ts), so setup can never write a FORMS value the worker would refuse.
 */
import * as v from 'valibot'
import {
  type FormProfile,
  type Forms,
  FormsSchema,
  PROFILE_ENTRIES,
} from '../src/core/forms/profile.ts'

export type Check<T> = { ok: true; value: T } | { ok: false; message: string }

const ok = <T>(value: T): Check<T> => ({ ok: true, value })
const fail = <T = never>(message: string): Check<T> => ({ ok: false, message })

// ─── Arguments ──────────────────────────────────────────────────────────────────────────────────

export interface SetupOptions {
  dryRun: boolean
  /** The wrangler config to edit, as given (default wrangler.toml in the project root). */
  config: string | null
  help: boolean
}

export const USAGE = `Usage: npm run setup [-- [--dry-run] [--config <path>]]

  --dry-run        print every wrangler command instead of running it (no secret is stored,
                   nothing is deployed); wrangler.toml is still updated, after you confirm
  --config <path>  the wrangler config to update (default: wrangler.toml)
  --help           this text`

/**
 * `npm run setup --dry-run` (without `--`) reaches us only as npm_config_dry_run=true, because
 * npm takes the flag for itself; honour it so the dry run is never silently skipped.
 */
export function parseArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {}
): Check<SetupOptions> {
  const options: SetupOptions = {
    dryRun: env.npm_config_dry_run === 'true',
    config: null,
    help: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--dry-run') options.dryRun = true
    else if (arg === '--help' || arg === '-h') options.help = true
    else if (arg === '--config' || arg === '-c') {
      const path = argv[++i]
      if (!path || path.startsWith('-')) return fail(`${arg} needs a path.\n\n${USAGE}`)
      options.config = path
    } else if (arg.startsWith('--config=')) {
      const path = arg.slice('--config='.length)
      if (!path) return fail(`--config needs a path.\n\n${USAGE}`)
      options.config = path
    } else return fail(`Unknown option ${JSON.stringify(arg)}.\n\n${USAGE}`)
  }
  return ok(options)
}

// ─── The worker's URL ───────────────────────────────────────────────────────────────────────────

const URL_IN_TEXT = /https?:\/\/[^\s"'<>`()[\]]+/gi

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127\./.test(hostname) ||
    hostname === '[::1]'
  )
}

/**
 * The worker's origin, from a typed URL or from pasted `wrangler deploy` output (which prints the
 * workers.dev URL indented under "Deployed … triggers"). A workers.dev URL wins over any other.
 */
export function parseWorkerUrl(text: string): Check<string> {
  const candidates = [...text.matchAll(URL_IN_TEXT)].map((m) => m[0].replace(/[.,;:]+$/, ''))
  const parsed: URL[] = []
  for (const candidate of candidates) {
    try {
      parsed.push(new URL(candidate))
    } catch {
      // not a URL after all; ignore
    }
  }
  if (parsed.length === 0) {
    const bare = text.trim()
    if (/^[a-z0-9-]+(\.[a-z0-9-]+)+\/?$/i.test(bare)) {
      return fail(`Add the scheme: https://${bare.replace(/\/$/, '')}`)
    }
    return fail(
      "That doesn't look like a URL. Enter your worker's address, such as " +
        'https://ctct-relay.<your-subdomain>.workers.dev, or paste the output of `npx wrangler deploy`.'
    )
  }
  const url = parsed.find((u) => u.hostname.endsWith('.workers.dev')) ?? parsed[0]
  if (isLoopback(url.hostname)) {
    return fail(
      `${url.origin} is a local address. Setup configures the deployed worker; for local runs ` +
        'use .dev.vars (see .dev.vars.example). Enter the https:// address Cloudflare serves it on.'
    )
  }
  if (url.protocol !== 'https:') {
    return fail(
      `Use the https:// address (https://${url.host}): Workers are served over https, and ` +
        'Constant Contact only redirects to https.'
    )
  }
  if (url.username || url.password) return fail('Leave user names and passwords out of the URL.')
  return ok(url.origin)
}

/** Lines that only ever appear in wrangler's own output: the start of a pasted deploy log. */
export function looksLikeWranglerOutput(line: string): boolean {
  return /⛅️|wrangler \d|^[─-]{8,}|Total Upload|Worker Startup Time|Your Worker has access|^Binding\s|^env\.|Uploaded |Deployed |Current Version ID|schedule: /i.test(
    line.trim()
  )
}

/**
 * Collects a pasted `wrangler deploy` log line by line. The paste ends with an empty line (or
 * wrangler's last line, "Current Version ID") once a URL has been seen; blank lines inside the log
 * (there is one after the bindings table) do not end it.
 */
export class DeployOutputCollector {
  #lines: string[] = []
  #sawUrl = false
  #blanks = 0

  /** Returns the result when the paste is complete, or null to read another line. */
  push(line: string): Check<string> | null {
    if (line.trim() === '') {
      this.#blanks++
      if (this.#sawUrl || this.#blanks >= 2) return this.finish()
      return null
    }
    this.#blanks = 0
    this.#lines.push(line)
    if (/https?:\/\//i.test(line) && parseWorkerUrl(line).ok) this.#sawUrl = true
    if (this.#sawUrl && /^\s*Current Version ID/i.test(line)) return this.finish()
    return null
  }

  finish(): Check<string> {
    const result = parseWorkerUrl(this.#lines.join('\n'))
    if (result.ok) return result
    return fail(
      'No https:// worker URL in what you pasted. wrangler prints it under "Deployed … triggers"; ' +
        'paste that line, or type the URL.'
    )
  }
}

export function redirectUri(workerOrigin: string): string {
  return `${workerOrigin}/oauth/callback`
}

export function adminUrl(workerOrigin: string): string {
  return `${workerOrigin}/admin`
}

// ─── The Constant Contact app ───────────────────────────────────────────────────────────────────

/** Printable ASCII without spaces, quotes or backslashes: what CC's keys and secrets consist of. */
const CREDENTIAL = /^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]+$/

export function checkClientId(input: string): Check<string> {
  const id = input.trim()
  if (!id) {
    return fail(
      'The client id is required: it is the "API Key" shown for your app in the Constant ' +
        'Contact developer portal (My Applications).'
    )
  }
  if (/^https?:\/\//i.test(id))
    return fail('That is a URL. The client id is the API key of your app.')
  if (id.length > 128 || !CREDENTIAL.test(id)) {
    return fail(
      "That doesn't look like an API key (keys have no spaces or quotes). Copy the API key exactly."
    )
  }
  return ok(id)
}

/** Empty means "no secret": the worker then runs as a PKCE public client. Never echoes the value. */
export function checkClientSecret(input: string, clientId: string): Check<string | null> {
  const secret = input.trim()
  if (!secret) return ok(null)
  if (secret === clientId) {
    return fail(
      'That is the API key again. Paste the client secret, or leave it empty if your app has none.'
    )
  }
  if (secret.length > 512 || !CREDENTIAL.test(secret)) {
    return fail(
      "That doesn't look like a client secret (secrets have no spaces or quotes). Paste it " +
        'exactly, or leave it empty if your app has none.'
    )
  }
  return ok(secret)
}

// ─── ADMIN_TOKEN ────────────────────────────────────────────────────────────────────────────────

export function base64url(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** 32 random bytes, base64url: 43 characters, 256 bits. */
export function generateAdminToken(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)
): string {
  return base64url(random(new Uint8Array(32)))
}

// ─── Yes / no ───────────────────────────────────────────────────────────────────────────────────

export function parseYesNo(input: string, fallback: boolean): Check<boolean> {
  const answer = input.trim().toLowerCase()
  if (answer === '') return ok(fallback)
  if (['y', 'yes'].includes(answer)) return ok(true)
  if (['n', 'no'].includes(answer)) return ok(false)
  return fail('Answer y or n.')
}

// ─── Form profiles (validated with the worker's own schemas) ───────────────────────────────────

type ProfileKey = keyof typeof PROFILE_ENTRIES

/** The key schema of FORMS' record: the worker's own rule for form ids. */
const FormIdSchema = (() => {
  for (const item of FormsSchema.pipe) {
    if (item.type === 'record' && 'key' in item) return item.key as v.GenericSchema<string, string>
  }
  throw new Error('FormsSchema has no record: update scripts/setup-lib.ts')
})()

function firstMessage(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues[0]?.message ?? 'is not valid'
}

export function checkFormId(input: string, fallback: string): Check<string> {
  const id = input.trim() || fallback
  const result = v.safeParse(FormIdSchema, id)
  if (!result.success) return fail(`Form id ${JSON.stringify(id)}: ${firstMessage(result.issues)}.`)
  return ok(result.output)
}

/** "a, b c" → ["a", "b", "c"], without duplicates. */
export function splitList(input: string): string[] {
  return [
    ...new Set(
      input
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    ),
  ]
}

/** Parses one profile field with its own entry in PROFILE_ENTRIES for it. */
function checkEntry(key: ProfileKey, value: unknown) {
  return v.safeParse(PROFILE_ENTRIES[key] as v.GenericSchema, value)
}

/** The offending item of an array-valued answer, for the message. */
function itemAt(issue: v.BaseIssue<unknown> | undefined, items: readonly string[]): string | null {
  const index = issue?.path?.[0]?.key
  return typeof index === 'number' ? (items[index] ?? null) : null
}

export function checkLists(input: string): Check<string[]> {
  const items = splitList(input)
  if (items.length === 0) {
    return fail(
      'Enter at least one list id. In Constant Contact open Contacts → Lists and the list: its id ' +
        'is the UUID in the address bar (or use /admin after connecting: it lists every id).'
    )
  }
  const result = checkEntry('lists', items)
  if (result.success) return ok(result.output as string[])
  const bad = itemAt(result.issues[0], items)
  return fail(
    bad === null
      ? `List ids ${firstMessage(result.issues)}.`
      : `${JSON.stringify(bad)} ${firstMessage(result.issues)}: list ids look like 1f2e3d4c-5b6a-11ee-8c90-0242ac120002.`
  )
}

export function checkOrigins(input: string): Check<string[]> {
  const items = splitList(input)
  if (items.length === 0) {
    return fail('Enter the origin of the site the form is on, such as https://www.example.com.')
  }
  const result = checkEntry('origins', items)
  if (result.success) return ok(result.output as string[])
  const bad = itemAt(result.issues[0], items) ?? items[0]
  let hint = ''
  try {
    const url = new URL(bad)
    if (url.origin !== 'null' && url.origin !== bad.replace(/\/$/, ''))
      hint = ` Did you mean ${url.origin}?`
  } catch {
    if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(bad)) hint = ` Did you mean https://${bad}?`
  }
  return fail(`${JSON.stringify(bad)} ${firstMessage(result.issues)}.${hint}`)
}

/** Empty keeps `current` (which may be undefined); "-" removes it. */
export function checkOptionalUrl(
  key: 'success_url' | 'error_url',
  input: string,
  current?: string
): Check<string | undefined> {
  const answer = input.trim()
  if (answer === '') return ok(current)
  if (answer === '-') return ok(undefined)
  const result = checkEntry(key, answer)
  if (!result.success) {
    return fail(`${JSON.stringify(answer)} ${firstMessage(result.issues)} (or leave it empty).`)
  }
  return ok(result.output as string | undefined)
}

/**
 * FORMS with `formId` set to the answered fields. Fields setup does not ask about
 * (custom_fields, turnstile, error_url, honeypot) are kept from an existing profile of that id.
 * The whole result goes through FormsSchema, exactly as the worker will parse it.
 */
export function mergeProfile(
  existing: Forms,
  formId: string,
  answers: { lists: string[]; origins: string[]; success_url?: string }
): Check<Forms> {
  const previous: Partial<FormProfile> = Object.hasOwn(existing, formId) ? existing[formId] : {}
  const profile: Record<string, unknown> = { ...previous, ...answers }
  if (answers.success_url === undefined) delete profile.success_url
  const result = v.safeParse(FormsSchema, JSON.stringify({ ...existing, [formId]: profile }))
  if (!result.success) {
    const issue = result.issues[0]
    const path = v.getDotPath(issue)
    return fail(`FORMS${path ? `.${path}` : ''} ${issue.message}`)
  }
  return ok(result.output)
}

/** FORMS as the worker will see it, minus defaults it would add back. */
export function formsJson(forms: Forms, indent?: number): string {
  const plain: Record<string, Record<string, unknown>> = {}
  for (const [id, profile] of Object.entries(forms)) {
    const copy: Record<string, unknown> = { ...profile }
    if (copy.honeypot === '_gotcha') delete copy.honeypot
    plain[id] = copy
  }
  return JSON.stringify(plain, null, indent)
}

// ─── Commands ───────────────────────────────────────────────────────────────────────────────────

export interface Command {
  /** A binary in node_modules/.bin. */
  cmd: string
  args: string[]
  /** How it is shown to the user: what they would type. Never contains a secret. */
  display: string
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** `npx wrangler <args>`, with `--config` when the config is not the default one. */
export function wranglerCommand(args: string[], config: string | null): Command {
  const all = config ? [...args, '--config', config] : args
  return { cmd: 'wrangler', args: all, display: `npx wrangler ${all.map(shellQuote).join(' ')}` }
}

/** The value goes to wrangler on stdin, so it never appears in a process list or the history. */
export function secretPutCommand(name: string, config: string | null): Command {
  return wranglerCommand(['secret', 'put', name], config)
}

export function deployCommand(config: string | null, dryRun = false): Command {
  return wranglerCommand(dryRun ? ['deploy', '--dry-run', '--outdir', 'dist'] : ['deploy'], config)
}

// ─── wrangler.toml ──────────────────────────────────────────────────────────────────────────────
// A small TOML scanner that finds top-level tables and key/value entries with their exact line
// ranges (strings, multi-line strings, arrays and inline tables included), so setup replaces the
// two values it owns and leaves every other byte, comment and table as it was.

interface Entry {
  kind: 'table' | 'keyval'
  /** Table name (whitespace and quotes removed) or the raw key. */
  name: string
  arrayTable: boolean
  /** Line range, end exclusive. */
  start: number
  end: number
  /** keyval only: the value's source text, without a trailing comment. */
  value: string
}

/** Where a string value starting at `i` ends (index after its closing quote), or -1. */
function stringEnd(text: string, i: number): number {
  const quote = text[i]
  const triple = text.startsWith(quote.repeat(3), i)
  if (triple) {
    let j = i + 3
    for (;;) {
      const close = text.indexOf(quote.repeat(3), j)
      if (close === -1) return -1
      if (quote === '"' && isEscaped(text, close)) {
        j = close + 1
        continue
      }
      // Up to two more quotes may sit right before the closing delimiter.
      let end = close + 3
      while (text[end] === quote && end - close < 5) end++
      return end
    }
  }
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]
    if (c === '\n') return -1
    if (quote === '"' && c === '\\') {
      j++
      continue
    }
    if (c === quote) return j + 1
  }
  return -1
}

function isEscaped(text: string, at: number): boolean {
  let backslashes = 0
  for (let k = at - 1; k >= 0 && text[k] === '\\'; k--) backslashes++
  return backslashes % 2 === 1
}

function lineOf(text: string, index: number): number {
  let n = 0
  for (let k = 0; k < index && k < text.length; k++) if (text[k] === '\n') n++
  return n
}

function normalizeName(raw: string): string {
  return raw
    .split('.')
    .map((part) => part.trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2'))
    .join('.')
}

function scan(text: string): Check<Entry[]> {
  const entries: Entry[] = []
  let i = 0
  while (i < text.length) {
    // Start of a logical line.
    while (text[i] === ' ' || text[i] === '\t') i++
    if (i >= text.length) break
    const c = text[i]
    if (c === '\n' || c === '\r') {
      i = text.indexOf('\n', i) + 1 || text.length
      continue
    }
    if (c === '#') {
      i = text.indexOf('\n', i) + 1 || text.length
      continue
    }
    const start = lineOf(text, i)
    if (c === '[') {
      const arrayTable = text[i + 1] === '['
      const close = text.indexOf(arrayTable ? ']]' : ']', i)
      const eol = text.indexOf('\n', i)
      if (close === -1 || (eol !== -1 && close > eol)) {
        return fail(`line ${start + 1}: unterminated table header`)
      }
      const name = normalizeName(text.slice(i + (arrayTable ? 2 : 1), close))
      entries.push({ kind: 'table', name, arrayTable, start, end: start + 1, value: '' })
      i = eol === -1 ? text.length : eol + 1
      continue
    }
    // key = value
    const eq = findEquals(text, i)
    if (eq === -1) return fail(`line ${start + 1}: expected key = value`)
    const name = normalizeName(text.slice(i, eq))
    let j = eq + 1
    while (text[j] === ' ' || text[j] === '\t') j++
    const valueStart = j
    let depth = 0
    let valueEnd = -1
    while (j < text.length) {
      const ch = text[j]
      if (ch === '"' || ch === "'") {
        const end = stringEnd(text, j)
        if (end === -1) return fail(`line ${lineOf(text, j) + 1}: unterminated string`)
        j = end
        continue
      }
      if (ch === '[' || ch === '{') depth++
      else if (ch === ']' || ch === '}') depth--
      else if (ch === '#') {
        if (depth === 0 && valueEnd === -1) valueEnd = j
        j = text.indexOf('\n', j)
        if (j === -1) j = text.length
        continue
      } else if (ch === '\n' && depth <= 0) break
      j++
    }
    if (valueEnd === -1) valueEnd = j
    const value = text.slice(valueStart, valueEnd).trim()
    entries.push({
      kind: 'keyval',
      name,
      arrayTable: false,
      start,
      end: lineOf(text, j) + 1,
      value,
    })
    i = j + 1
  }
  return ok(entries)
}

function findEquals(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    const c = text[j]
    if (c === '\n') return -1
    if (c === '"' || c === "'") {
      const end = stringEnd(text, j)
      if (end === -1) return -1
      j = end - 1
      continue
    }
    if (c === '=') return j
  }
  return -1
}

/** Decodes a TOML string value (all four kinds); null when `value` is not exactly one string. */
export function decodeTomlString(value: string): string | null {
  const quote = value[0]
  if (quote !== '"' && quote !== "'") return null
  const end = stringEnd(value, 0)
  if (end !== value.length) return null
  const triple = value.startsWith(quote.repeat(3))
  let body = triple ? value.slice(3, -3) : value.slice(1, -1)
  if (triple) body = body.replace(/^\r?\n/, '')
  if (quote === "'") return body
  let out = ''
  for (let k = 0; k < body.length; k++) {
    const ch = body[k]
    if (ch !== '\\') {
      out += ch
      continue
    }
    const next = body[++k]
    const simple: Record<string, string> = {
      b: '\b',
      t: '\t',
      n: '\n',
      f: '\f',
      r: '\r',
      e: '\x1b',
      '"': '"',
      '\\': '\\',
    }
    if (next in simple) out += simple[next]
    else if (next === 'u' || next === 'U' || next === 'x') {
      const len = next === 'u' ? 4 : next === 'U' ? 8 : 2
      const hex = body.slice(k + 1, k + 1 + len)
      if (!/^[0-9a-f]+$/i.test(hex) || hex.length !== len) return null
      out += String.fromCodePoint(Number.parseInt(hex, 16))
      k += len
    } else if (triple && /[ \t\r\n]/.test(next ?? '')) {
      // Line-ending backslash: skip the newline and the whitespace after it.
      while (k < body.length && /[ \t\r\n]/.test(body[k])) k++
      k--
    } else return null
  }
  return out
}

/** A TOML basic string: what setup writes for CC_CLIENT_ID. */
export function tomlBasicString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0
    if (ch === '"' || ch === '\\') out += `\\${ch}`
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return `${out}"`
}

/**
 * FORMS as a multi-line literal string holding pretty JSON (no escaping, easy to edit by hand);
 * a basic string in the unlikely case the JSON contains ''' itself.
 */
export function formsTomlValue(forms: Forms): string {
  const json = formsJson(forms, 2)
  // JSON.stringify escapes every control character but DEL, which literal strings cannot hold.
  if (!json.includes("'''") && !json.includes('\u007f')) return `'''\n${json}'''`
  return tomlBasicString(formsJson(forms))
}

export interface VarsState {
  /** Current CC_CLIENT_ID in [vars] ('' when empty), or null when absent or not a string. */
  clientId: string | null
  /** Current FORMS in [vars], parsed with FormsSchema. */
  forms:
    | { status: 'ok'; value: Forms }
    | { status: 'absent' }
    | { status: 'invalid'; message: string }
  /** Why setup cannot edit this file safely (then it prints the snippet instead), or null. */
  notEditable: string | null
}

interface VarsLayout {
  entries: Entry[]
  /** Index in `entries` of the [vars] table header, or -1. */
  table: number
  /** Index in `entries` of the next table header after [vars] (or entries.length). */
  tableEnd: number
  clientId: Entry | null
  forms: Entry | null
  notEditable: string | null
}

function layout(text: string): VarsLayout {
  const scanned = scan(text)
  const empty = { entries: [], table: -1, tableEnd: 0, clientId: null, forms: null }
  if (!scanned.ok) return { ...empty, notEditable: `it could not be read (${scanned.message})` }
  const entries = scanned.value
  const table = entries.findIndex((e) => e.kind === 'table' && !e.arrayTable && e.name === 'vars')
  let tableEnd = entries.length
  if (table !== -1) {
    const next = entries.findIndex((e, k) => k > table && e.kind === 'table')
    if (next !== -1) tableEnd = next
  }
  const inVars = table === -1 ? [] : entries.slice(table + 1, tableEnd)
  const find = (key: string) => inVars.find((e) => e.name === key) ?? null
  const firstTable = entries.findIndex((e) => e.kind === 'table')
  const topLevel = firstTable === -1 ? entries : entries.slice(0, firstTable)
  let notEditable: string | null = null
  if (entries.some((e) => e.kind === 'table' && /^vars\.(FORMS|CC_CLIENT_ID)(\.|$)/.test(e.name))) {
    notEditable = 'FORMS is written as a TOML table ([vars.FORMS…])'
  } else if (inVars.some((e) => /^(FORMS|CC_CLIENT_ID)\./.test(e.name))) {
    notEditable = 'FORMS is written with dotted keys'
  } else if (topLevel.some((e) => e.name === 'vars' || e.name.startsWith('vars.'))) {
    notEditable = 'vars is written as an inline table or with dotted keys'
  }
  const clientId = find('CC_CLIENT_ID')
  const forms = find('FORMS')
  if (!notEditable && forms && decodeTomlString(forms.value) === null) {
    notEditable = 'FORMS is not a single string (an inline table?)'
  }
  if (!notEditable && clientId && decodeTomlString(clientId.value) === null) {
    notEditable = 'CC_CLIENT_ID is not a string'
  }
  return { entries, table, tableEnd, clientId, forms, notEditable }
}

export function readVars(text: string): VarsState {
  const l = layout(text)
  const clientId = l.clientId ? decodeTomlString(l.clientId.value) : null
  let forms: VarsState['forms'] = { status: 'absent' }
  const raw = l.forms ? decodeTomlString(l.forms.value) : null
  if (l.forms && raw === null) {
    forms = { status: 'invalid', message: 'FORMS is not a string setup can read' }
  } else if (raw !== null) {
    const result = v.safeParse(FormsSchema, raw.trim() === '' ? '{}' : raw)
    if (result.success) forms = { status: 'ok', value: result.output }
    else {
      const issue = result.issues[0]
      const path = v.getDotPath(issue)
      forms = { status: 'invalid', message: `FORMS${path ? `.${path}` : ''} ${issue.message}` }
    }
  }
  return { clientId, forms, notEditable: l.notEditable }
}

/** What setup writes under [vars]; `forms: null` leaves FORMS as it is. */
export interface VarsValues {
  clientId: string
  forms: Forms | null
}

/** The exact lines setup writes under [vars]: also the snippet printed when it cannot edit. */
export function varsLines(values: VarsValues, eol = '\n'): string[] {
  const lines = [`CC_CLIENT_ID = ${tomlBasicString(values.clientId)}`]
  if (values.forms) lines.push(`FORMS = ${formsTomlValue(values.forms)}`.replace(/\n/g, eol))
  return lines
}

export function varsSnippet(values: VarsValues): string {
  return ['[vars]', ...varsLines(values)].join('\n')
}

/**
 * wrangler.toml with [vars] CC_CLIENT_ID and FORMS set to `values`; everything else unchanged.
 * Refuses (ok: false) when the file's shape is not one it can edit safely, and checks its own
 * output by reading the two values back.
 */
export function updateVars(text: string, values: VarsValues): Check<string> {
  const l = layout(text)
  if (l.notEditable) return fail(`wrangler.toml cannot be edited automatically: ${l.notEditable}.`)
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text.split(/\r?\n/)
  const [clientLine, formsLine] = varsLines(values, eol)
  // Apply from the bottom up so earlier line numbers stay valid.
  const edits: { start: number; end: number; insert: string[] }[] = []
  const missing: string[] = []
  if (l.clientId) edits.push({ start: l.clientId.start, end: l.clientId.end, insert: [clientLine] })
  else missing.push(clientLine)
  if (formsLine !== undefined) {
    if (l.forms) edits.push({ start: l.forms.start, end: l.forms.end, insert: [formsLine] })
    else missing.push(formsLine)
  }
  if (missing.length > 0) {
    if (l.table !== -1) {
      const inVars = l.entries.slice(l.table + 1, l.tableEnd)
      const after = inVars.length > 0 ? inVars[inVars.length - 1].end : l.entries[l.table].end
      edits.push({ start: after, end: after, insert: missing })
    } else {
      // A new [vars] table: before the first [env.*] table, or at the end.
      const env = l.entries.find((e) => e.kind === 'table' && e.name.startsWith('env.'))
      let at = env ? env.start : lines.length
      while (at > 0 && lines[at - 1].trim() === '') at--
      edits.push({ start: at, end: at, insert: ['', '[vars]', ...missing, ...(env ? [''] : [])] })
    }
  }
  edits.sort((a, b) => b.start - a.start)
  for (const edit of edits) {
    lines.splice(edit.start, edit.end - edit.start, ...edit.insert.flatMap((s) => s.split(eol)))
  }
  const next = lines.join(eol)
  const check = readVars(next)
  const formsBack =
    values.forms === null ||
    (check.forms.status === 'ok' && formsJson(check.forms.value) === formsJson(values.forms))
  if (check.notEditable || check.clientId !== values.clientId || !formsBack) {
    return fail(
      'wrangler.toml could not be updated safely (the result did not read back the same).'
    )
  }
  return ok(next)
}

/** A line diff for the preview before writing: "- old", "+ new", and "  same" around changes. */
export function changedLines(before: string, after: string, context = 1): string[] {
  const a = before.split(/\r?\n/)
  const b = after.split(/\r?\n/)
  // Longest common subsequence table (wrangler.toml is short).
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    }
  }
  const ops: { kind: ' ' | '-' | '+'; line: string }[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i] })
      i++
      j++
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: '-', line: a[i++] })
    } else {
      ops.push({ kind: '+', line: b[j++] })
    }
  }
  const near = (k: number) =>
    ops.slice(Math.max(0, k - context), k + context + 1).some((op) => op.kind !== ' ')
  const out: string[] = []
  let skipped = false
  ops.forEach((op, k) => {
    if (op.kind !== ' ' || near(k)) {
      if (skipped && out.length > 0) out.push('  …')
      out.push(`${op.kind} ${op.line}`)
      skipped = false
    } else skipped = true
  })
  return out
}
