import { describe, expect, it } from 'vitest'
import { readableTime } from './time.tsx'

describe('readableTime', () => {
  const at = Date.UTC(2026, 11, 6, 15, 27)

  it("reads an instant in the account's time zone, and names the zone", () => {
    expect(readableTime(at, 'America/New_York')).toBe('6 Dec 2026, 10:27 (America/New_York)')
    expect(readableTime(new Date(at).toISOString(), 'Europe/Paris')).toBe(
      '6 Dec 2026, 16:27 (Europe/Paris)'
    )
  })

  it('falls back to UTC without a zone, or with one the runtime does not know', () => {
    expect(readableTime(at)).toBe('6 Dec 2026, 15:27 (UTC)')
    expect(readableTime(at, 'Mars/Olympus_Mons')).toBe('6 Dec 2026, 15:27 (UTC)')
  })
})
