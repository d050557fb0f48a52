import { describe, expect, it } from 'vitest'
import { alertEvent, eventBody, signupDelivered, wants } from './events.ts'

const T = Date.UTC(2031, 0, 6, 9)
const signup = {
  formId: 'newsletter',
  payload: { email_address: 'a@example.com', list_memberships: ['l1'] },
  tags: ['t1'],
}

describe('webhook events', () => {
  it('signup.delivered carries the contact and what CC did, in the documented body', () => {
    const event = signupDelivered(signup, { contactId: 'c1', action: 'created' }, T, T + 1500)
    expect(JSON.parse(eventBody(event))).toEqual({
      type: 'signup.delivered',
      timestamp: '2031-01-06T09:00:01.500Z',
      data: {
        form: 'newsletter',
        email: 'a@example.com',
        contact_id: 'c1',
        action: 'created',
        lists: ['l1'],
        tags: ['t1'],
        received_at: '2031-01-06T09:00:00.000Z',
        delivered_at: '2031-01-06T09:00:01.500Z',
      },
    })
    expect(signupDelivered(signup, { action: 'merged?' }, T, T).data.action).toBe(null)
  })

  it('an endpoint takes its types, and of sign-ups only its forms', () => {
    const event = signupDelivered(signup, {}, T, T)
    expect(wants({ events: ['signup.delivered'], forms: null }, event)).toBe(true)
    expect(wants({ events: ['signup.delivered'], forms: ['other'] }, event)).toBe(false)
    expect(wants({ events: ['backlog.high'], forms: null }, event)).toBe(false)
    const restored = alertEvent({
      event: 'recovered',
      state: 'connected',
      at: new Date(T).toISOString(),
    })
    expect(wants({ events: ['connection.restored'], forms: ['other'] }, restored ?? event)).toBe(
      true
    )
  })

  it('alerts map to events; a dead letter and the webhooks own alerts do not', () => {
    const at = new Date(T).toISOString()
    expect(alertEvent({ event: 'needs_reauth', state: 'needs_reauth', at })?.type).toBe(
      'connection.needs_reauth'
    )
    expect(alertEvent({ event: 'backlog', state: 'backlog', at })?.type).toBe('backlog.high')
    expect(alertEvent({ event: 'dead_letter', state: 'dead_letter', at })).toBe(null)
    expect(alertEvent({ event: 'webhook_dropped', state: 'webhook_dropped', at })).toBe(null)
  })
})
