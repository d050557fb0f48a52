/**
 * @module core/metrics/csv
 * CSV for the owner's exports (RFC 4180). Cells that start with `=`, `+`, `-`, `@`, a tab or a CR
 * get a leading `'`, so a spreadsheet does not run outside text (error messages, CC's words) as a
 * formula.
 */
export function toCsv(rows: readonly (readonly (string | number | null)[])[]): string {
  return rows.map((row) => `${row.map(cell).join(',')}\r\n`).join('')
}

function cell(value: string | number | null): string {
  if (value === null) return ''
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
