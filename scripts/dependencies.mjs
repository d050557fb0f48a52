// Whether node_modules matches package-lock.json, so that `npm start` and `npm test` on a fresh
// clone (or after a pull that changed the lockfile) install first, and never otherwise. Node
// built-ins only: this runs before anything is installed.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'))

/** Why `npm ci` is needed in `root`, or null when node_modules is current. */
export function staleDependencies(root) {
  const lockfile = join(root, 'package-lock.json')
  // npm rewrites this copy of the lockfile on every install: its date is the install's.
  const installed = join(root, 'node_modules', '.package-lock.json')
  if (!existsSync(installed)) return 'node_modules is missing'
  if (statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs) return null
  // Older, but git dates a file by its checkout: a new clone or worktree next to an existing
  // install, or a branch switch, makes an unchanged lockfile look newer. What it pins decides.
  return sameInstall(readJson(installed), readJson(lockfile))
    ? null
    : 'node_modules is older than package-lock.json'
}

/**
 * True when every package the lockfile requires is installed as locked, and every installed one
 * is locked as it is. Optional packages may be absent: npm skips those for other platforms.
 */
export function sameInstall(installed, locked) {
  const have = installed.packages ?? {}
  const want = locked.packages ?? {}
  const matches = (a, b) => a.version === b.version && a.integrity === b.integrity
  return (
    Object.entries(want).every(
      ([path, entry]) => path === '' || (have[path] ? matches(have[path], entry) : entry.optional)
    ) && Object.keys(have).every((path) => path in want)
  )
}
