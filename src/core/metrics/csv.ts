/**
 * @module core/metrics/csv
 * CSV for the owner's exports (RFC 4180: CRLF lines, quotes doubled). A cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a CR is prefixed with `'`: a spreadsheet would otherwise run it as
 * a formula, and some cells (a form's error message, CC's own words) come from outside.
 */
export function toCsv(rows: readonly (readonly (string | number | null)[])[]): string {
  return rows.map((row) => `${row.map(cell).join(',')}\r\n`).join('')
}

function cell(value: string | number | null): string {
  if (value === null) return ''
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
