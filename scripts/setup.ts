#!/usr/bin/env node
/**
 * `npm run setup`: the guided, re-runnable path from a clone to a deployed relay.
 *   1. the worker's URL (typed, or pasted `wrangler deploy` output) → the redirect URI to register
 *   2. the CC app's client id, and its client secret when it has one
 *   3. a fresh ADMIN_TOKEN (32 random bytes), shown once
 *   4. optionally, a form in FORMS, checked with the worker's own schema (forms are made in
 *      /admin; FORMS is for read-only ones kept in the configuration)
 *   5. CC_CLIENT_ID (and FORMS, if given) written into wrangler.toml [vars] (preview + confirm)
 *   6. `wrangler secret put` for the secrets (values on stdin, never echoed), then `wrangler
 * deploy` `--dry-run` prints each wrangler command instead of running it. The rules live in
 * setup-lib.ts; this file only asks, prints, writes and spawns.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Forms } from '../src/core/forms/profile.ts'
import {
  adminUrl,
  type Check,
  type Command,
  changedLines,
  checkClientId,
  checkClientSecret,
  checkFormId,
  checkLists,
  checkOptionalUrl,
  checkOrigins,
  DeployOutputCollector,
  deployCommand,
  formsJson,
  generateAdminToken,
  looksLikeWranglerOutput,
  mergeProfile,
  parseArgs,
  parseWorkerUrl,
  parseYesNo,
  readVars,
  redirectUri,
  secretPutCommand,
  USAGE,
  updateVars,
  varsSnippet,
  wranglerCommand,
} from './setup-lib.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = process.stdout

/** Thrown when stdin ends before setup has its answers: reported without a stack trace. */
class InputEnded extends Error {}

/**
 * Lines from stdin, one per question. Lines are queued as they arrive, so piped answers are never
 * lost between questions. On a terminal, secret answers are not echoed.
 */
class Prompter {
  #queue: string[] = []
  #waiting: ((line: string | null) => void) | null = null
  #closed = false
  #muted = false
  readonly #rl: Interface
  readonly tty: boolean

  constructor() {
    this.tty = Boolean(process.stdin.isTTY)
    // Everything readline writes (the prompt, the echo of typed keys) goes through here, so a
    // secret's keystrokes can be swallowed.
    const echo = new Writable({
      write: (chunk, _encoding, done) => {
        if (!this.#muted) out.write(chunk)
        done()
      },
    })
    // No history: the up arrow must never bring a secret back.
    const rl = createInterface({
      input: process.stdin,
      output: echo,
      terminal: this.tty,
      historySize: 0,
    })
    this.#rl = rl
    rl.on('line', (line) => {
      if (this.#waiting) {
        const resolveLine = this.#waiting
        this.#waiting = null
        resolveLine(line)
      } else this.#queue.push(line)
    })
    rl.on('close', () => {
      this.#closed = true
      this.#waiting?.(null)
      this.#waiting = null
    })
    // Ctrl-C on a terminal: leave quietly, like any CLI.
    rl.on('SIGINT', () => {
      out.write('\nStopped. Nothing else was changed; run `npm run setup` again any time.\n')
      process.exit(130)
    })
  }

  close(): void {
    this.#rl.close()
  }

  #next(): Promise<string | null> {
    const line = this.#queue.shift()
    if (line !== undefined) return Promise.resolve(line)
    if (this.#closed) return Promise.resolve(null)
    return new Promise((r) => {
      this.#waiting = r
    })
  }

  /** One raw line, after printing `prompt`. `continued`: a follow-up line of a paste. */
  async line(prompt: string, options: { secret?: boolean; continued?: boolean } = {}) {
    if (this.#closed) {
      out.write(prompt) // stdin has ended; queued answers remain, readline is gone
    } else {
      this.#rl.setPrompt(prompt)
      if (prompt) this.#rl.prompt()
    }
    this.#muted = Boolean(options.secret)
    const line = await this.#next()
    this.#muted = false
    if (line === null) throw new InputEnded()
    // A terminal echoes the newline itself, except for hidden input; a pipe echoes nothing.
    if ((!this.tty && !options.continued) || (this.tty && options.secret)) out.write('\n')
    return line
  }

  /** Asks until `check` accepts the answer; each rejection prints its message and asks again. */
  async ask<T>(
    prompt: string,
    check: (answer: string) => Check<T>,
    options: { secret?: boolean } = {}
  ): Promise<T> {
    for (;;) {
      const result = check(await this.line(prompt, options))
      if (result.ok) return result.value
      out.write(`  ✗ ${result.message}\n`)
    }
  }

  yesNo(prompt: string, fallback: boolean): Promise<boolean> {
    return this.ask(`${prompt} ${fallback ? '[Y/n]' : '[y/N]'} `, (a) => parseYesNo(a, fallback))
  }
}

const say = (text = '') => out.write(`${text}\n`)
const step = (n: number, title: string) =>
  say(`\n── ${n}/6 ${title} ${'─'.repeat(Math.max(3, 60 - title.length))}`)

/**
 * Runs a wrangler command from node_modules/.bin. Its stdin is a pipe carrying `stdin` (a secret)
 * or nothing: wrangler then runs non-interactively and never competes with our prompts for the
 * terminal (it reads a secret from stdin, and asks for CLOUDFLARE_API_TOKEN or `wrangler login`
 * instead of opening a browser).
 */
function runCommand(
  command: Command,
  options: { stdin?: string; capture?: boolean } = {}
): Promise<{ ok: boolean; output: string }> {
  return new Promise((done) => {
    // SETUP_WRANGLER_BIN: a stand-in wrangler for scripts/setup.test.ts.
    const bin = process.env.SETUP_WRANGLER_BIN ?? join(root, 'node_modules', '.bin', command.cmd)
    if (!existsSync(bin)) {
      say(`  ✗ ${command.cmd} is not installed here: run \`npm ci\` first.`)
      done({ ok: false, output: '' })
      return
    }
    const child = spawn(bin, command.args, {
      cwd: root,
      stdio: ['pipe', options.capture ? 'pipe' : 'inherit', 'inherit'],
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      out.write(chunk)
    })
    child.on('error', (err) => {
      say(`  ✗ Could not start ${command.cmd}: ${err.message}`)
      done({ ok: false, output })
    })
    child.on('close', (code) => done({ ok: code === 0, output }))
    child.stdin?.end(options.stdin ?? '')
  })
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2), process.env)
  if (!parsed.ok) {
    say(parsed.message)
    return 2
  }
  const options = parsed.value
  if (options.help) {
    say(USAGE)
    return 0
  }
  const configPath = resolve(root, options.config ?? 'wrangler.toml')
  // Passed on to wrangler only when it is not the default.
  const configArg = options.config
    ? isAbsolute(options.config)
      ? options.config
      : relative(root, configPath)
    : null
  if (!existsSync(configPath)) {
    say(`No wrangler config at ${configPath}. Run \`npm run setup\` in the project folder.`)
    return 1
  }
  const originalToml = await readFile(configPath, 'utf8')
  const inProject = relative(root, configPath)
  const tomlName = inProject && !inProject.startsWith('..') ? inProject : configPath
  const vars = readVars(originalToml)
  const firstRun = !vars.clientId
  const dry = options.dryRun

  say('ctct-relay setup')
  say('Safe to re-run: every step shows what it will change, and Enter keeps the current value.')
  if (dry) {
    say('Dry run: wrangler commands are printed, not run (no secret is stored, nothing is')
    say('deployed). wrangler.toml is still updated if you confirm, so that')
    say('`npx wrangler deploy --dry-run` can check your configuration offline.')
  }

  if (vars.notEditable) {
    say(`Note: ${tomlName} cannot be edited automatically (${vars.notEditable});`)
    say('setup will print the lines to paste into it instead.')
  }

  const prompt = new Prompter()
  let failures = 0
  try {
    // 1. Where the worker runs.
    step(1, "The worker's URL")
    say(
      'Enter the https:// address of your worker, e.g. https://ctct-relay.<subdomain>.workers.dev'
    )
    say('(your workers.dev subdomain is on the Workers & Pages overview in the Cloudflare')
    say('dashboard), or paste the output of `npx wrangler deploy` followed by an empty line.')
    const workerUrl = await askWorkerUrl(prompt)
    say('\nRegister this exact Redirect URI on your Constant Contact app (developer portal →')
    say('My Applications → your app → Redirect URI), then save:')
    say(`\n    ${redirectUri(workerUrl)}\n`)
    say('It must match byte for byte; the worker builds it from the address you open /admin on.')

    // 2. The Constant Contact app.
    step(2, 'Your Constant Contact app')
    const currentId = vars.clientId || ''
    const clientId = await prompt.ask(
      `API key (client id)${currentId ? ` [Enter keeps ${currentId}]` : ''}: `,
      (a) => checkClientId(a.trim() === '' ? currentId : a)
    )
    say('Client secret: only if your app has one (Authorization Code flow). Leave it empty for a')
    say('PKCE app; the worker then runs as a public client. Typing is not shown.')
    const clientSecret = await prompt.ask(
      'Client secret [Enter: none]: ',
      (a) => checkClientSecret(a, clientId),
      { secret: true }
    )
    if (!clientSecret && !firstRun) {
      say(
        'No secret given. If one was stored before and your app no longer has one, remove it with'
      )
      say(`  ${wranglerCommand(['secret', 'delete', 'CC_CLIENT_SECRET'], configArg).display}`)
    }

    // 3. ADMIN_TOKEN.
    step(3, 'ADMIN_TOKEN (your /admin password)')
    if (!firstRun) {
      say('A new token signs every open /admin session out (the session key derives from it).')
    }
    const newToken = (await prompt.yesNo('Generate and store a new ADMIN_TOKEN?', firstRun))
      ? generateAdminToken()
      : null

    // 4. Forms: made in /admin; FORMS is optional.
    step(4, 'Forms (optional here)')
    say('Forms are made in /admin once you are connected (Forms → New form), with your lists')
    say('and custom fields to pick from. FORMS in wrangler.toml is optional: forms defined there')
    say('show in /admin as read-only, and change only with a redeploy.')
    let forms: Forms = vars.forms.status === 'ok' ? vars.forms.value : {}
    let editForm: boolean
    if (vars.forms.status === 'invalid') {
      say(`The FORMS in ${tomlName} is not valid: ${vars.forms.message}`)
      editForm = await prompt.yesNo('Replace FORMS with a profile you enter now?', false)
      if (!editForm) say('Leaving FORMS as it is: fix it by hand (the worker refuses it as it is).')
    } else {
      const ids = Object.keys(forms)
      if (ids.length > 0) say(`Forms in FORMS now: ${ids.join(', ')}`)
      editForm = await prompt.yesNo('Add or update a form in FORMS now?', false)
    }
    if (editForm) forms = await askProfile(prompt, forms)

    // 5. wrangler.toml.
    step(5, 'wrangler.toml [vars]')
    // FORMS is written only when it changed; one the owner did not touch (absent, or invalid
    // and kept) is left alone (CC_CLIENT_ID is still written).
    const formsUnchanged =
      !editForm || (vars.forms.status === 'ok' && formsJson(vars.forms.value) === formsJson(forms))
    const values = { clientId, forms: formsUnchanged ? null : forms }
    const updated = updateVars(originalToml, values)
    if (!updated.ok) {
      say(`${updated.message} Put these lines under [vars] yourself:\n`)
      say(varsSnippet(values))
    } else if (updated.value === originalToml) {
      say(`${tomlName} already has these values.`)
    } else {
      say(`These changes go into ${tomlName}:\n`)
      for (const line of changedLines(originalToml, updated.value)) say(`  ${line}`)
      say()
      if (await prompt.yesNo(`Write them to ${tomlName}?`, true)) {
        const temporary = `${configPath}.setup-${process.pid}.tmp`
        await writeFile(temporary, updated.value)
        await rename(temporary, configPath)
        say(`✓ ${tomlName} updated.`)
      } else {
        say('Not written. The lines to put under [vars] yourself:\n')
        say(varsSnippet(values))
      }
    }

    // 6. Secrets and deploy.
    step(6, 'Secrets and deploy')
    const secrets: { name: string; value: string }[] = []
    if (newToken) secrets.push({ name: 'ADMIN_TOKEN', value: newToken })
    if (clientSecret) secrets.push({ name: 'CC_CLIENT_SECRET', value: clientSecret })
    if (secrets.length === 0) say('No secrets to store.')
    for (const secret of secrets) {
      const command = secretPutCommand(secret.name, configArg)
      if (dry) {
        say(`  $ ${command.display}    (paste the value when wrangler asks)`)
        continue
      }
      say(`  $ ${command.display}`)
      let stored = (await runCommand(command, { stdin: secret.value })).ok
      while (!stored) {
        say(`  ✗ Storing ${secret.name} failed. Logged in? \`npx wrangler login\` (or set`)
        say('    CLOUDFLARE_API_TOKEN), then retry.')
        if (!(await prompt.yesNo('Retry now?', true))) break
        stored = (await runCommand(command, { stdin: secret.value })).ok
      }
      if (!stored) {
        failures++
        say(`  ${secret.name} is not stored. Run \`${command.display}\` later and paste it.`)
      }
    }
    if (newToken) {
      say('\nYour ADMIN_TOKEN, shown this once: keep it in your password manager.')
      say(`\n    ${newToken}\n`)
      if (dry) say('(Dry run: not stored. Run the secret put command above and paste it.)')
    }

    let deployedUrl: string | null = null
    const deploy = deployCommand(configArg)
    if (dry) {
      say(`  $ ${deploy.display}`)
      say('\nCheck that your configuration builds, offline:')
      say(`  $ ${deployCommand(configArg, true).display}`)
    } else if (await prompt.yesNo(`Deploy now (${deploy.display})?`, true)) {
      const result = await runCommand(deploy, { capture: true })
      if (!result.ok) {
        failures++
        say(`  ✗ The deploy failed; see wrangler's message above, then run \`${deploy.display}\`.`)
      } else {
        const found = parseWorkerUrl(result.output)
        if (found.ok) deployedUrl = found.value
      }
    } else {
      say(`Deploy when ready: ${deploy.display}`)
    }

    const finalUrl = deployedUrl ?? workerUrl
    if (deployedUrl && deployedUrl !== workerUrl) {
      say(`\nwrangler deployed to ${deployedUrl}, not ${workerUrl}: register`)
      say(`    ${redirectUri(deployedUrl)}`)
      say('as the Redirect URI instead.')
    }
    say(`\n── Done ${'─'.repeat(62)}`)
    say(`Open ${adminUrl(finalUrl)}, sign in with your ADMIN_TOKEN, and click`)
    say('"Connect Constant Contact". After that the worker keeps the connection alive by itself;')
    say('make your forms there with "New form".')
    if (failures > 0)
      say(`\n${failures} step(s) did not complete; run \`npm run setup\` again to finish.`)
    return failures > 0 ? 1 : 0
  } finally {
    prompt.close()
  }
}

/** A URL on one line, or a pasted `wrangler deploy` log ending with an empty line. */
async function askWorkerUrl(prompt: Prompter): Promise<string> {
  for (;;) {
    const first = await prompt.line('Worker URL: ')
    let result = parseWorkerUrl(first)
    if (!result.ok && looksLikeWranglerOutput(first)) {
      const collector = new DeployOutputCollector()
      let done = collector.push(first)
      while (!done) {
        try {
          done = collector.push(await prompt.line('', { continued: true }))
        } catch (err) {
          if (!(err instanceof InputEnded)) throw err
          done = collector.finish()
        }
      }
      result = done
    }
    if (result.ok) {
      say(`  ✓ ${result.value}`)
      return result.value
    }
    say(`  ✗ ${result.message}`)
  }
}

async function askProfile(prompt: Prompter, forms: Forms): Promise<Forms> {
  const ids = Object.keys(forms)
  const formId = await prompt.ask(
    `Form id, used in the form's action URL /subscribe/<id> [Enter: ${ids[0] ?? 'newsletter'}]: `,
    (a) => checkFormId(a, ids[0] ?? 'newsletter')
  )
  const current = Object.hasOwn(forms, formId) ? forms[formId] : undefined
  const keep = (values?: readonly string[]) => (values ? ` [Enter keeps ${values.join(', ')}]` : '')
  say('List ids: Constant Contact → Contacts → Lists → open the list; the id is the UUID in the')
  say('address bar. Several ids: separate them with commas.')
  const lists = await prompt.ask(`Constant Contact list id(s)${keep(current?.lists)}: `, (a) =>
    checkLists(a.trim() === '' && current ? current.lists.join(',') : a)
  )
  const origins = await prompt.ask(
    `Site origin(s) the form is on, e.g. https://www.example.com${keep(current?.origins)}: `,
    (a) => checkOrigins(a.trim() === '' && current ? current.origins.join(',') : a)
  )
  const successUrl = await prompt.ask(
    `Thank-you page URL (optional${current?.success_url ? `; Enter keeps ${current.success_url}, - removes it` : ', Enter for the built-in page'}): `,
    (a) => checkOptionalUrl('success_url', a, current?.success_url)
  )
  for (;;) {
    const merged = mergeProfile(forms, formId, { lists, origins, success_url: successUrl })
    if (merged.ok) {
      say(`  ✓ FORMS.${formId} is valid: ${formsJson({ [formId]: merged.value[formId] })}`)
      return merged.value
    }
    // Every field passed on its own; a whole-FORMS failure means an old profile is broken.
    say(`  ✗ ${merged.message}`)
    if (!(await prompt.yesNo('Keep only this profile and drop the others?', false))) return forms
    forms = {}
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof InputEnded) {
      say(
        '\n\nInput ended before setup finished. Nothing else was changed; run `npm run setup` again.'
      )
      process.exitCode = 1
      return
    }
    // Anything unexpected: one readable line, no stack trace.
    say(`\nSetup stopped: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  }
)
