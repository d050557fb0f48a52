/**
 * Accessibility checks with axe-core (from npm) inside Chromium: WCAG 2.0/2.1/2.2 A and AA, plus
 * axe's best practices. The page's own CSP may forbid injected scripts, so the check runs axe in a
 * fresh context with `bypassCSP` on the same URL (and the same cookies, for owner pages).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8'
)
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']

/** Runs axe on the page as it is now; returns the violations (empty when the page passes). */
export async function axeViolations(page) {
  await page.addScriptTag({ content: AXE_SOURCE })
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    AXE_TAGS
  )
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }))
}

/**
 * Opens `url` in a CSP-bypassing context that carries `cookies` (and JavaScript on, which axe
 * needs), optionally lets `prepare(page)` bring the page into the state to check, then checks it.
 */
export async function axeCheck(browser, url, { cookies = [], prepare } = {}) {
  const context = await browser.newContext({ bypassCSP: true })
  try {
    if (cookies.length > 0) await context.addCookies(cookies)
    const page = await context.newPage()
    await page.goto(url)
    if (prepare) await prepare(page)
    return await axeViolations(page)
  } finally {
    await context.close()
  }
}

/** One line per violation, for an assertion message. */
export function describeViolations(violations) {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(', ')}`)
    .join('; ')
}
