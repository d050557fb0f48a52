// node --test scripts/dependencies.test.mjs: when `npm start` and `npm test` install first.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sameInstall, staleDependencies } from './dependencies.mjs'

const LOCKED = {
  packages: {
    '': { name: 'ctct-relay' },
    'node_modules/hono': { version: '4.13.19', integrity: 'sha512-h' },
    'node_modules/@esbuild/darwin-arm64': {
      version: '0.25.0',
      integrity: 'sha512-d',
      optional: true,
    },
  },
}
const INSTALLED = {
  packages: { 'node_modules/hono': { version: '4.13.19', integrity: 'sha512-h' } },
}

/** A project folder with that lockfile, and node_modules installed at `installedAt` (seconds). */
function project(installed, installedAt, lockedAt = 1_000) {
  const root = mkdtempSync(join(tmpdir(), 'ctct-deps-'))
  writeFileSync(join(root, 'package-lock.json'), JSON.stringify(LOCKED))
  utimesSync(join(root, 'package-lock.json'), lockedAt, lockedAt)
  if (installed) {
    mkdirSync(join(root, 'node_modules'))
    const file = join(root, 'node_modules', '.package-lock.json')
    writeFileSync(file, JSON.stringify(installed))
    utimesSync(file, installedAt, installedAt)
  }
  return root
}

function staleness(...args) {
  const root = project(...args)
  try {
    return staleDependencies(root)
  } finally {
    rmSync(root, { recursive: true })
  }
}

test('installs when node_modules is missing', () => {
  assert.equal(staleness(null), 'node_modules is missing')
})

test('installed after the lockfile changed: current', () => {
  assert.equal(staleness(INSTALLED, 2_000), null)
})

test('installed before the lockfile was checked out: current if it pins the same', () => {
  assert.equal(staleness(INSTALLED, 500), null)
  const older = { packages: { 'node_modules/hono': { version: '4.12.0', integrity: 'sha512-o' } } }
  assert.equal(staleness(older, 500), 'node_modules is older than package-lock.json')
})

test('sameInstall: versions and integrity must match; only optional packages may be absent', () => {
  assert.equal(sameInstall(INSTALLED, LOCKED), true)
  assert.equal(sameInstall({ packages: {} }, LOCKED), false)
  const tampered = { packages: { 'node_modules/hono': { version: '4.13.19', integrity: 'x' } } }
  assert.equal(sameInstall(tampered, LOCKED), false)
  const extra = {
    packages: { ...INSTALLED.packages, 'node_modules/left-pad': { version: '1.0.0' } },
  }
  assert.equal(sameInstall(extra, LOCKED), false)
})
