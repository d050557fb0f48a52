/**
 * `npm run setup`: the pure rules (setup-lib.ts), then one end-to-end dry run driven through
 * stdin. Runs on Node's own test runner with type stripping (Node >= 22.18 or 23.6):
 *   node scripts/with-node.mjs node --test scripts/setup.test.ts
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as v from 'valibot'
import { FormsSchema } from '../src/core/forms/profile.ts'
import {
  adminUrl,
  changedLines,
  checkClientId,
  checkClientSecret,
  checkFormId,
  checkLists,
  checkOptionalUrl,
  checkOrigins,
  DeployOutputCollector,
  decodeTomlString,
  deployCommand,
  generateAdminToken,
  looksLikeWranglerOutput,
  mergeProfile,
  parseArgs,
  parseWorkerUrl,
  parseYesNo,
  readVars,
  redirectUri,
  secretPutCommand,
  shellQuote,
  splitList,
  tomlBasicString,
  updateVars,
  varsSnippet,
} from './setup-lib.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const LIST_A = '9e2f7d10-1111-4c3b-8e42-000000000001'
const LIST_B = '9e2f7d10-1111-4c3b-8e42-000000000002'

function value<T>(check: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!check.ok) assert.fail(`expected ok, got: ${check.message}`)
  return check.value
}

function message(check: { ok: boolean; message?: string }): string {
  assert.equal(check.ok, false, 'expected a rejection')
  return check.message ?? ''
}

const DEPLOY_OUTPUT = ` ⛅️ wrangler 4.164.0
───────────────────
Total Upload: 270.79 KiB / gzip: 68.26 KiB
Worker Startup Time: 14 ms
Your Worker has access to the following bindings:
Binding                       Resource
env.RELAY (Relay)             Durable Object

Uploaded ctct-relay (3.21 sec)
Deployed ctct-relay triggers (1.02 sec)
  https://ctct-relay.acme-bakery.workers.dev
  schedule: */15 * * * *
Current Version ID: 0b7d4b2c-7c5e-4f7b-9a39-5d1f3c0a2e11`

describe('parseArgs', () => {
  it('reads --dry-run, --config and --help', () => {
    assert.deepEqual(value(parseArgs([])), { dryRun: false, config: null, help: false })
    assert.deepEqual(value(parseArgs(['--dry-run', '--config', 'x.toml'])), {
      dryRun: true,
      config: 'x.toml',
      help: false,
    })
    assert.equal(value(parseArgs(['--config=y.toml'])).config, 'y.toml')
    assert.equal(value(parseArgs(['-h'])).help, true)
  })

  it('takes `npm run setup --dry-run` (npm keeps the flag, sets npm_config_dry_run)', () => {
    assert.equal(value(parseArgs([], { npm_config_dry_run: 'true' })).dryRun, true)
    assert.equal(value(parseArgs([], { npm_config_dry_run: '' })).dryRun, false)
  })

  it('rejects unknown options and a --config without a path, with the usage', () => {
    assert.match(message(parseArgs(['--dryrun'])), /Unknown option "--dryrun"[\s\S]*Usage/)
    assert.match(message(parseArgs(['--config'])), /--config needs a path/)
    assert.match(message(parseArgs(['--config', '--dry-run'])), /needs a path/)
  })
})

describe('the worker URL', () => {
  it('takes a typed URL and keeps only the origin', () => {
    assert.equal(
      value(parseWorkerUrl(' https://ctct-relay.acme.workers.dev/ ')),
      'https://ctct-relay.acme.workers.dev'
    )
    assert.equal(
      value(parseWorkerUrl('https://relay.example.com/admin')),
      'https://relay.example.com'
    )
  })

  it('finds the workers.dev URL in pasted `wrangler deploy` output', () => {
    assert.equal(value(parseWorkerUrl(DEPLOY_OUTPUT)), 'https://ctct-relay.acme-bakery.workers.dev')
    const withOthers = `see https://developers.cloudflare.com/workers\n${DEPLOY_OUTPUT}`
    assert.equal(value(parseWorkerUrl(withOthers)), 'https://ctct-relay.acme-bakery.workers.dev')
  })

  it('explains what is wrong with a bad answer', () => {
    assert.match(message(parseWorkerUrl('my worker')), /doesn't look like a URL/)
    assert.match(
      message(parseWorkerUrl('ctct-relay.acme.workers.dev')),
      /Add the scheme: https:\/\/ctct-relay/
    )
    assert.match(message(parseWorkerUrl('http://relay.example.com')), /Use the https:\/\/ address/)
    assert.match(message(parseWorkerUrl('http://localhost:8787')), /local address/)
    assert.match(message(parseWorkerUrl('https://u:p@relay.example.com')), /user names/)
  })

  it('builds the redirect URI and the /admin URL', () => {
    assert.equal(redirectUri('https://r.example.com'), 'https://r.example.com/oauth/callback')
    assert.equal(adminUrl('https://r.example.com'), 'https://r.example.com/admin')
  })

  it('recognises a paste of wrangler output by its first line', () => {
    assert.equal(looksLikeWranglerOutput(' ⛅️ wrangler 4.164.0'), true)
    assert.equal(looksLikeWranglerOutput('Uploaded ctct-relay (3.21 sec)'), true)
    assert.equal(looksLikeWranglerOutput('my worker'), false)
  })

  it('collects a pasted log across its inner blank line, up to wrangler’s last line', () => {
    const collector = new DeployOutputCollector()
    const lines = DEPLOY_OUTPUT.split('\n')
    const results = lines.map((line) => collector.push(line))
    assert.deepEqual(results.slice(0, -1), new Array(lines.length - 1).fill(null))
    assert.equal(
      value(results.at(-1) ?? assert.fail()),
      'https://ctct-relay.acme-bakery.workers.dev'
    )
  })

  it('ends a paste on an empty line after the URL, and fails clearly without one', () => {
    const c = new DeployOutputCollector()
    assert.equal(c.push('Deployed ctct-relay triggers (1.02 sec)'), null)
    assert.equal(c.push('  https://ctct-relay.x.workers.dev'), null)
    assert.equal(value(c.push('') ?? assert.fail()), 'https://ctct-relay.x.workers.dev')
    const none = new DeployOutputCollector()
    assert.equal(none.push('Uploaded ctct-relay (3 sec)'), null)
    assert.equal(none.push(''), null)
    assert.match(message(none.push('') ?? assert.fail()), /No https:\/\/ worker URL/)
  })
})

describe('the Constant Contact app', () => {
  it('accepts an API key and explains an empty or mangled one', () => {
    assert.equal(
      value(checkClientId(' 0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10 ')),
      '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10'
    )
    assert.match(message(checkClientId('')), /required: it is the "API Key"/)
    assert.match(message(checkClientId('abc def')), /no spaces or quotes/)
    assert.match(message(checkClientId('"abc"')), /no spaces or quotes/)
    assert.match(message(checkClientId('https://app.constantcontact.com')), /That is a URL/)
  })

  it('takes an optional secret, and never repeats it in a message', () => {
    assert.equal(value(checkClientSecret('', 'id')), null)
    assert.equal(value(checkClientSecret('  s3cr3t_Value  ', 'id')), 's3cr3t_Value')
    assert.match(message(checkClientSecret('the-id', 'the-id')), /API key again/)
    const bad = message(checkClientSecret('has a space', 'id'))
    assert.match(bad, /doesn't look like a client secret/)
    assert.doesNotMatch(bad, /has a space/)
  })
})

describe('ADMIN_TOKEN', () => {
  it('is 32 random bytes, base64url (43 characters)', () => {
    const token = generateAdminToken()
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(generateAdminToken(), token)
    const fixed = generateAdminToken((b) => b.fill(0xfb))
    assert.equal(fixed, '-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s')
  })
})

describe('yes / no', () => {
  it('defaults on Enter and re-asks on anything else', () => {
    assert.equal(value(parseYesNo('', true)), true)
    assert.equal(value(parseYesNo(' N ', true)), false)
    assert.equal(value(parseYesNo('yes', false)), true)
    assert.match(message(parseYesNo('maybe', true)), /Answer y or n/)
  })
})

describe('form profiles, checked with the worker’s own FORMS schema', () => {
  it('form ids', () => {
    assert.equal(value(checkFormId('', 'newsletter')), 'newsletter')
    assert.equal(value(checkFormId('events_2026', 'newsletter')), 'events_2026')
    assert.match(message(checkFormId('my form', 'x')), /form ids use A-Z a-z 0-9 _ -/)
  })

  it('list ids: comma or space separated, UUIDs only, names the bad one', () => {
    assert.deepEqual(splitList(`${LIST_A}, ${LIST_B} ${LIST_A}`), [LIST_A, LIST_B])
    assert.deepEqual(value(checkLists(`${LIST_A},${LIST_B}`)), [LIST_A, LIST_B])
    assert.match(message(checkLists(`${LIST_A}, Newsletter`)), /"Newsletter" must be a UUID/)
    assert.match(message(checkLists('  ')), /at least one list id/)
  })

  it('origins: no path; suggests the origin of a full URL', () => {
    assert.deepEqual(value(checkOrigins('https://www.example.com/')), ['https://www.example.com'])
    assert.match(
      message(checkOrigins('https://www.example.com/signup')),
      /must be an origin[\s\S]*Did you mean https:\/\/www\.example\.com\?/
    )
    assert.match(message(checkOrigins('example.com')), /Did you mean https:\/\/example\.com\?/)
  })

  it('success_url: optional; Enter keeps the current one, "-" removes it', () => {
    assert.equal(value(checkOptionalUrl('success_url', '')), undefined)
    assert.equal(value(checkOptionalUrl('success_url', '', 'https://a.test/t')), 'https://a.test/t')
    assert.equal(value(checkOptionalUrl('success_url', '-', 'https://a.test/t')), undefined)
    assert.equal(
      value(checkOptionalUrl('success_url', 'https://b.test/thanks')),
      'https://b.test/thanks'
    )
    assert.match(message(checkOptionalUrl('success_url', 'thanks.html')), /absolute URL/)
  })

  it('merges into FORMS, keeping fields setup does not ask about', () => {
    const existing = v.parse(
      FormsSchema,
      JSON.stringify({
        newsletter: {
          lists: [LIST_A],
          origins: ['https://old.test'],
          custom_fields: { source: LIST_B },
          turnstile: true,
        },
        events: { lists: [LIST_B], origins: ['https://events.test'] },
      })
    )
    const merged = value(
      mergeProfile(existing, 'newsletter', { lists: [LIST_B], origins: ['https://new.test'] })
    )
    assert.deepEqual(merged.newsletter.lists, [LIST_B])
    assert.deepEqual(merged.newsletter.origins, ['https://new.test'])
    assert.deepEqual(merged.newsletter.custom_fields, { source: LIST_B })
    assert.equal(merged.newsletter.turnstile, true)
    assert.deepEqual(merged.events.lists, [LIST_B])
  })
})

describe('commands', () => {
  it('puts secrets through stdin: the command line never holds the value', () => {
    const put = secretPutCommand('CC_CLIENT_SECRET', null)
    assert.deepEqual([put.cmd, ...put.args], ['wrangler', 'secret', 'put', 'CC_CLIENT_SECRET'])
    assert.equal(put.display, 'npx wrangler secret put CC_CLIENT_SECRET')
    assert.equal(
      secretPutCommand('ADMIN_TOKEN', 'conf/my wrangler.toml').display,
      "npx wrangler secret put ADMIN_TOKEN --config 'conf/my wrangler.toml'"
    )
  })

  it('deploys, or builds offline in a dry run', () => {
    assert.equal(deployCommand(null).display, 'npx wrangler deploy')
    assert.equal(
      deployCommand('w.toml', true).display,
      'npx wrangler deploy --dry-run --outdir dist --config w.toml'
    )
  })

  it('quotes for the shell only when needed', () => {
    assert.equal(shellQuote('plain-arg_1.toml'), 'plain-arg_1.toml')
    assert.equal(shellQuote("it's"), `'it'\\''s'`)
  })
})

describe('wrangler.toml', () => {
  const TOML = readFileSync(join(root, 'wrangler.toml'), 'utf8')
  const forms = value(
    mergeProfile({}, 'newsletter', {
      lists: [LIST_A],
      origins: ['https://www.example.com'],
      success_url: "https://www.example.com/it's-done",
    })
  )

  it('decodes the four TOML string kinds', () => {
    assert.equal(decodeTomlString('"a\\"b\\\\c\\u00e9"'), 'a"b\\cé')
    assert.equal(decodeTomlString("'C:\\path'"), 'C:\\path')
    assert.equal(decodeTomlString("'''\n{\"a\": 1}\n'''"), '{"a": 1}\n')
    assert.equal(decodeTomlString('"""\nline \\\n   joined"""'), 'line joined')
    assert.equal(decodeTomlString('{ a = 1 }'), null)
    assert.equal(decodeTomlString('"a" "b"'), null)
    assert.equal(tomlBasicString('a"b\\c'), '"a\\"b\\\\c"')
  })

  it("reads the project's own wrangler.toml: FORMS is optional, and absent", () => {
    const vars = readVars(TOML)
    assert.equal(vars.notEditable, null)
    assert.equal(typeof vars.clientId, 'string')
    assert.equal(vars.forms.status, 'absent')
  })

  it('writes no FORMS when none is given (forms are made in /admin)', () => {
    const next = value(updateVars(TOML, { clientId: 'my-api-key', forms: null }))
    assert.equal(readVars(next).forms.status, 'absent')
    assert.deepEqual(
      changedLines(TOML, next).filter((l) => /^[-+] /.test(l)),
      ['- CC_CLIENT_ID = ""', '+ CC_CLIENT_ID = "my-api-key"']
    )
  })

  it('changes only CC_CLIENT_ID and FORMS in [vars], never [env.staging.vars]', () => {
    const next = value(updateVars(TOML, { clientId: 'my-api-key', forms }))
    const vars = readVars(next)
    assert.equal(vars.clientId, 'my-api-key')
    assert.equal(
      vars.forms.status === 'ok' && vars.forms.value.newsletter.success_url,
      "https://www.example.com/it's-done"
    )
    const changed = changedLines(TOML, next).filter((l) => /^[-+] /.test(l))
    assert.ok(
      changed.every((l) => /^[-+] (CC_CLIENT_ID|FORMS|[{}\s"\][]| {2})/.test(l)),
      changed.join('\n')
    )
    // Everything from the staging section on is byte for byte the same.
    assert.equal(
      next.slice(next.indexOf('[env.staging]')),
      TOML.slice(TOML.indexOf('[env.staging]'))
    )
  })

  it('is idempotent, so re-running setup changes nothing', () => {
    const once = value(updateVars(TOML, { clientId: 'k', forms }))
    assert.equal(value(updateVars(once, { clientId: 'k', forms })), once)
  })

  it('writes what the worker parses: FORMS round-trips through FormsSchema', () => {
    const next = value(updateVars(TOML, { clientId: 'k', forms }))
    const vars = readVars(next)
    assert.equal(vars.forms.status, 'ok')
  })

  it('adds missing keys to [vars], and a missing [vars] before [env.*]', () => {
    const noKeys = '[vars]\n# nothing yet\nOTHER = "x"\n\n[env.staging]\nname = "s"\n'
    const a = value(updateVars(noKeys, { clientId: 'k', forms }))
    assert.match(a, /OTHER = "x"\nCC_CLIENT_ID = "k"\nFORMS = '''/)
    const noVars = 'name = "w"\nmain = "src/worker.ts"\n\n[env.staging]\nname = "s"\n'
    const b = value(updateVars(noVars, { clientId: 'k', forms }))
    assert.ok(b.indexOf('[vars]') < b.indexOf('[env.staging]'))
    assert.equal(readVars(b).clientId, 'k')
  })

  it('keeps CRLF line endings and comments after values', () => {
    const crlf = '[vars]\r\nCC_CLIENT_ID = "" # the API key\r\nFORMS = "{}"\r\n'
    const next = value(updateVars(crlf, { clientId: 'k', forms }))
    assert.ok(!/[^\r]\n/.test(next), 'every newline is CRLF')
    assert.equal(readVars(next).clientId, 'k')
  })

  it('leaves FORMS alone when asked (forms: null)', () => {
    const toml = '[vars]\nCC_CLIENT_ID = ""\nFORMS = "not json"\n'
    const next = value(updateVars(toml, { clientId: 'k', forms: null }))
    assert.equal(next, '[vars]\nCC_CLIENT_ID = "k"\nFORMS = "not json"\n')
    assert.equal(readVars(toml).forms.status, 'invalid')
  })

  it('refuses shapes it cannot edit safely, and prints the snippet instead', () => {
    for (const toml of [
      '[vars]\nCC_CLIENT_ID = ""\n[vars.FORMS.newsletter]\nlists = []\n',
      '[vars]\nCC_CLIENT_ID = ""\nFORMS = { newsletter = { lists = [] } }\n',
      'vars = { CC_CLIENT_ID = "" }\n',
      '[vars]\nFORMS = "{}"\nFORMS.x = 1\n',
    ]) {
      assert.match(
        message(updateVars(toml, { clientId: 'k', forms })),
        /cannot be edited automatically/,
        toml
      )
    }
    assert.match(
      varsSnippet({ clientId: 'k', forms }),
      /^\[vars\]\nCC_CLIENT_ID = "k"\nFORMS = '''\n\{/
    )
  })

  it('is not fooled by brackets and # inside strings and arrays', () => {
    const tricky = [
      'name = "a [b] # c"',
      'crons = [',
      '  "*/15 * * * *", # every 15',
      '  "[0]"',
      ']',
      '[vars]',
      "FORMS = '''",
      '{"x": {"lists": [], "note": "[vars]"}}',
      "'''",
      'CC_CLIENT_ID = "old"',
      '',
    ].join('\n')
    const next = value(updateVars(tricky, { clientId: 'new', forms }))
    assert.ok(next.startsWith('name = "a [b] # c"\ncrons = [\n'))
    assert.equal(readVars(next).clientId, 'new')
    assert.equal(next.match(/\[vars\]/g)?.length, 1)
  })
})

// ─── End to end: `npm run setup -- --dry-run`, answers on stdin ─────────────────────────────────

describe('npm run setup -- --dry-run (end to end)', () => {
  it('asks, re-asks after a bad answer, prints every command, never echoes a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctct-setup-'))
    try {
      // A copy of the project's config whose entry point still resolves from the temp dir.
      const config = join(dir, 'wrangler.toml')
      const source = readFileSync(join(root, 'wrangler.toml'), 'utf8')
      writeFileSync(
        config,
        source.replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, 'src/worker.ts'))}`)
      )
      const secret = 'Sup3r-Secret-Value-0001'
      const answers = [
        'my worker', // bad: not a URL → re-asked
        'https://ctct-relay.acme-bakery.workers.dev',
        '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10', // client id
        secret, // client secret
        '', // generate ADMIN_TOKEN? (default yes on a first run)
        'y', // also define a form in FORMS? (default no: forms are made in /admin)
        '', // form id → newsletter
        `${LIST_A}, Newsletter`, // bad: not a UUID → re-asked
        LIST_A,
        'https://www.acme-bakery.example/', // origin
        'https://www.acme-bakery.example/thanks', // success_url
        'y', // write wrangler.toml
      ]
      const { code, stdout } = await runSetup(['--dry-run', '--config', config], answers)
      assert.equal(code, 0, stdout)

      // Each bad answer: a clear message, then the same question again.
      assert.match(stdout, /✗ That doesn't look like a URL/)
      assert.equal(stdout.split('Worker URL: ').length - 1, 2)
      assert.match(stdout, /✗ "Newsletter" must be a UUID/)
      assert.equal(stdout.split('Constant Contact list id(s): ').length - 1, 2)

      assert.match(
        stdout,
        /\n {4}https:\/\/ctct-relay\.acme-bakery\.workers\.dev\/oauth\/callback\n/
      )
      assert.ok(stdout.includes(`$ npx wrangler secret put ADMIN_TOKEN --config ${config}`), stdout)
      assert.ok(stdout.includes(`$ npx wrangler secret put CC_CLIENT_SECRET --config ${config}`))
      assert.ok(stdout.includes(`$ npx wrangler deploy --config ${config}`))
      assert.ok(stdout.includes(`$ npx wrangler deploy --dry-run --outdir dist --config ${config}`))
      assert.ok(stdout.includes('https://ctct-relay.acme-bakery.workers.dev/admin'))

      // The secret never appears; the generated token appears exactly once.
      assert.ok(!stdout.includes(secret), 'the client secret was echoed')
      const tokens = stdout.match(/^ {4}([A-Za-z0-9_-]{43})$/gm) ?? []
      assert.equal(tokens.length, 1, stdout)
      assert.equal(stdout.split(tokens[0].trim()).length - 1, 1)

      // wrangler.toml now carries the owner's config, in a form the worker accepts.
      const vars = readVars(readFileSync(config, 'utf8'))
      assert.equal(vars.clientId, '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10')
      assert.ok(vars.forms.status === 'ok')
      assert.deepEqual(vars.forms.value.newsletter.lists, [LIST_A])
      assert.deepEqual(vars.forms.value.newsletter.origins, ['https://www.acme-bakery.example'])

      // The issue's bar: with that config, `wrangler deploy --dry-run` passes.
      const build = spawnSync(
        join(root, 'node_modules/.bin/wrangler'),
        ['deploy', '--dry-run', '--outdir', join(dir, 'dist'), '--config', config, '--env='],
        { cwd: root, encoding: 'utf8' }
      )
      assert.equal(build.status, 0, build.stderr + build.stdout)
      assert.match(build.stdout, /env\.CC_CLIENT_ID \("0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10"\)/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('stops cleanly, without a stack trace, when the answers run out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctct-setup-'))
    try {
      const config = join(dir, 'wrangler.toml')
      const before = readFileSync(join(root, 'wrangler.toml'), 'utf8')
      writeFileSync(config, before)
      const { code, stdout, stderr } = await runSetup(
        ['--dry-run', '--config', config],
        ['https://ctct-relay.acme-bakery.workers.dev']
      )
      assert.equal(code, 1)
      assert.match(stdout, /Input ended before setup finished/)
      assert.doesNotMatch(stdout + stderr, /\bat .*\.ts:\d+/)
      assert.equal(readFileSync(config, 'utf8'), before)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('npm run setup (for real, against a stand-in wrangler)', () => {
  it('pipes each secret to `wrangler secret put` on stdin, deploys, and reads the URL back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctct-setup-'))
    try {
      const config = join(dir, 'wrangler.toml')
      writeFileSync(config, readFileSync(join(root, 'wrangler.toml'), 'utf8'))
      const log = join(dir, 'calls.jsonl')
      const fake = join(dir, 'wrangler')
      writeFileSync(
        fake,
        `#!/usr/bin/env node
const fs = require('node:fs')
let stdin = ''
process.stdin.on('data', (d) => { stdin += d })
process.stdin.on('end', () => {
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), stdin }) + '\\n')
  if (process.argv[2] === 'deploy') {
    console.log('Uploaded ctct-relay (1.00 sec)')
    console.log('Deployed ctct-relay triggers (0.50 sec)')
    console.log('  https://ctct-relay.other-sub.workers.dev')
    console.log('Current Version ID: 00000000-0000-4000-8000-000000000000')
  }
})
`,
        { mode: 0o755 }
      )
      writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}')
      const secret = 'Another-Secret-0002'
      const answers = [
        'https://ctct-relay.acme-bakery.workers.dev',
        'client-id-1',
        secret,
        'y', // new ADMIN_TOKEN
        '', // no form in FORMS (the default): forms are made in /admin
        'y', // write wrangler.toml
        'y', // deploy now
      ]
      const { code, stdout } = await runSetup(['--config', config], answers, {
        SETUP_WRANGLER_BIN: fake,
      })
      assert.equal(code, 0, stdout)
      const calls = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { args: string[]; stdin: string })
      assert.deepEqual(
        calls.map((c) => c.args),
        [
          ['secret', 'put', 'ADMIN_TOKEN', '--config', config],
          ['secret', 'put', 'CC_CLIENT_SECRET', '--config', config],
          ['deploy', '--config', config],
        ]
      )
      // A deployment without FORMS: only CC_CLIENT_ID was written.
      const written = readVars(readFileSync(config, 'utf8'))
      assert.equal(written.clientId, 'client-id-1')
      assert.equal(written.forms.status, 'absent')
      assert.match(calls[0].stdin, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(calls[1].stdin, secret)
      assert.equal(calls[2].stdin, '')
      assert.ok(!stdout.includes(secret))
      assert.ok(stdout.includes(calls[0].stdin), 'the stored ADMIN_TOKEN is shown to the owner')
      // wrangler deployed somewhere else than the URL typed in step 1: say so.
      assert.match(
        stdout,
        /register\n {4}https:\/\/ctct-relay\.other-sub\.workers\.dev\/oauth\/callback/
      )
      assert.ok(stdout.includes('Open https://ctct-relay.other-sub.workers.dev/admin'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function runSetup(args: string[], answers: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'setup', '--', ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(`${answers.join('\n')}\n`)
  })
}
