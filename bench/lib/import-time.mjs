/**
 * Prints how long the first `import()` of a module takes in a fresh process: parsing plus the
 * module's top-level work. Run once per process, so nothing is cached in the isolate.
 */
import { pathToFileURL } from 'node:url'

const file = process.argv[2]
const started = performance.now()
try {
  await import(pathToFileURL(file).href)
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`)
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: String(err) })}\n`)
}
