// Runs project tools under Node >= 22, with node_modules installed. This machine image ships
// Node 20, and wrangler refuses to start below 22, so when the current Node is older we install
// the `node` npm package into .tools/ once and put its binary first on PATH for the child
// processes. Then, when node_modules is missing or older than package-lock.json, `npm ci` runs
// once: every npm script comes through here, so none needs anything run before it.
// Node built-ins only (and dependencies.mjs, which is too): nothing else is installed yet.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { staleDependencies } from './dependencies.mjs'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const toolsBin = join(root, '.tools', 'node_modules', '.bin')

function nodeMajor() {
  return Number(process.versions.node.split('.')[0])
}

export function ensureNode() {
  if (nodeMajor() >= 22) return process.env.PATH
  if (!existsSync(join(toolsBin, 'node'))) {
    console.error(`Node ${process.versions.node} is older than 22: installing node@24 into .tools/`)
    execFileSync('npm', ['install', '--no-save', '--prefix', join(root, '.tools'), 'node@24'], {
      stdio: 'inherit',
    })
  }
  return `${toolsBin}:${process.env.PATH}`
}

/** Runs `npm ci` (with the Node that ensureNode chose) when node_modules is not current. */
function ensureDependencies(path) {
  const stale = staleDependencies(root)
  if (!stale) return
  console.error(`${stale}: running npm ci`)
  // npm's summary ("added N packages") would be a second line; its errors still show.
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: ['inherit', 'ignore', 'inherit'],
    cwd: root,
    env: { ...process.env, PATH: path },
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const nodePath = ensureNode()
ensureDependencies(nodePath)
const PATH = `${join(root, 'node_modules', '.bin')}:${nodePath}`

/** Runs a tool from node_modules/.bin; exits with its status when it fails, unless told not to. */
export function run(cmd, args, { exitOnFailure = true, ...options } = {}) {
  const result = spawnSync(cmd, args, {
    stdio: 'inherit',
    cwd: root,
    ...options,
    env: { ...process.env, ...options.env, PATH },
  })
  if (exitOnFailure && result.status !== 0) process.exit(result.status ?? 1)
  return result
}

/** Like run(), but keeps this process's event loop free (for servers started beside it). */
export function runAsync(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: 'inherit',
      cwd: root,
      ...options,
      env: { ...process.env, ...options.env, PATH },
    })
    const stop = () => child.kill('SIGTERM')
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    child.on('exit', (code) => {
      process.exit(code ?? 0)
      resolve()
    })
  })
}

/**
 * Starts a tool beside the steps that follow, its output held in a file (a pipe would fill and
 * stall it while a run() blocks this process). `finish()` prints the output and resolves to the
 * exit status.
 */
export function runBeside(cmd, args) {
  const file = join(mkdtempSync(join(tmpdir(), 'ctct-beside-')), 'output.log')
  const fd = openSync(file, 'w')
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    cwd: root,
    env: { ...process.env, PATH },
  })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
  // A step that fails exits this process at once: the tools beside it stop too.
  const stop = () => child.kill('SIGTERM')
  process.on('exit', stop)
  return {
    finish: async () => {
      const status = await exited
      process.off('exit', stop)
      process.stdout.write(readFileSync(file))
      return status
    },
  }
}
