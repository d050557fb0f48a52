/** What the relay under test and the bench's model of CC must agree on. */
export const BENCH_LIST = '9e2f7d10-1111-4c3b-8e42-00000000be4c'
/** The tag of the bench's tagged form (the tagged burst). */
export const BENCH_TAG = 'c6915956-fde3-4081-977e-00000000be4c'
