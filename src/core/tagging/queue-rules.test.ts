import { describe, expect, it } from 'vitest'
import { killed } from '../relay/store-rules.ts'
import {
  TAGGING_GATHER_MS,
  type TaggingRecord,
  taggingRecords,
  tagKey,
  toPendingTagging,
  toTaggingDeadLetter,
} from './queue-rules.ts'

const T = Date.UTC(2031, 0, 6, 9)
const tag = (n: number) => `c6915956-fde3-4081-977e-${String(n).padStart(12, '0')}`
const toTag = (tagIds: string[]) => ({
  formId: 'f',
  contactId: 'contact-1',
  tagIds,
  emailMasked: 'a•••a@example.com',
})

describe('taggingRecords', () => {
  it('one pending tagging, its tag set sorted and without repeats, due after the window', () => {
    const [record, ...more] = taggingRecords(toTag([tag(2), tag(1), tag(2)]), T)
    expect(more).toEqual([])
    expect(record).toEqual({
      formId: 'f',
      contactId: 'contact-1',
      tagIds: [tag(1), tag(2)],
      tagKey: tagKey([tag(1), tag(2)]),
      emailMasked: 'a•••a@example.com',
      status: 'pending',
      attempts: 0,
      createdAt: T,
      nextAttemptAt: T + TAGGING_GATHER_MS,
      leaseUntil: null,
      lastError: null,
      deadAt: null,
    })
  })

  it('the same set in another order has the same key: one batch for both', () => {
    const [a] = taggingRecords(toTag([tag(1), tag(2)]), T)
    const [b] = taggingRecords(toTag([tag(2), tag(1)]), T)
    expect(a.tagKey).toBe(b.tagKey)
    expect(a.tagKey).not.toBe(taggingRecords(toTag([tag(1)]), T)[0].tagKey)
  })

  it('more than 50 tags (merged sign-ups) become taggings of 50 at most, CC’s limit', () => {
    const tags = Array.from({ length: 120 }, (_, i) => tag(i))
    const records = taggingRecords(toTag(tags), T)
    expect(records.map((r) => r.tagIds.length)).toEqual([50, 50, 20])
    expect(records.flatMap((r) => r.tagIds)).toEqual(tags)
  })
})

describe('what a claim and the owner see', () => {
  const record: TaggingRecord = { id: 7, ...taggingRecords(toTag([tag(1)]), T)[0] }

  it('a claim hands out the contact, not the address', () => {
    expect(toPendingTagging({ ...record, attempts: 2 })).toEqual({
      id: 7,
      formId: 'f',
      contactId: 'contact-1',
      attempts: 2,
      createdAt: T,
    })
  })

  it('a dead letter shows the masked address, the tags and the error', () => {
    const error = { status: 400, errorKey: 'k', message: 'no such tag', at: T + 5 }
    expect(toTaggingDeadLetter(killed(record, error, T + 5))).toEqual({
      id: 7,
      formId: 'f',
      emailMasked: 'a•••a@example.com',
      tagIds: [tag(1)],
      createdAt: T,
      deadAt: T + 5,
      error,
      attempts: 1,
    })
  })
})
