import { deadLetterKind, redriveDeadLetters, type DeadLetterInbox, type DeadLetterKind, type StoredDeadLetter } from './dead-letter-redrive';

class FakeInbox implements DeadLetterInbox {
  readonly removed: string[] = [];
  constructor(public letters: StoredDeadLetter[]) {}
  async pending() {
    return this.letters.filter((letter) => !this.removed.includes(letter.id));
  }
  async remove(ids: readonly string[]) {
    this.removed.push(...ids);
  }
}

const streamRecord = (id: string): StoredDeadLetter => ({ id, source: 'cdc-enrichment', reason: 'bad image', failedAt: '2026-01-01T00:00:00.000Z', payload: { eventID: id, dynamodb: { Keys: {} } } });
const envelope = (id: string): StoredDeadLetter => ({ id, source: 'pipe', reason: 'throttled', failedAt: '2026-01-01T00:00:00.000Z', payload: { eventId: `e-${id}`, aggregateId: 'cart-1', version: 1 } });
/** As the Pipe leaves a batch it gave up on (local/on-failure-record.ts, like AWS): where the records are, not them. */
const pipeBatch = (id: string): StoredDeadLetter => {
  const batch = { shardId: 'shardId-1', startSequenceNumber: '100', endSequenceNumber: '104', batchSize: 5, streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/x' };
  return {
    id,
    source: 'pipe',
    reason: 'enrichment failed: TimeoutError (RetryAttemptsExhausted after 11 attempt(s))',
    failedAt: '2026-01-01T00:00:00.000Z',
    ids: batch,
    payload: { requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 }, responseContext: { reason: 'timeout' }, version: '1.0', timestamp: '2026-01-01T00:00:00.000Z', DDBStreamBatchInfo: batch },
  };
};
const consumerBatch = (id: string): StoredDeadLetter => ({ id, source: 'consumer:projections', reason: 'retries exhausted', failedAt: '2026-01-01T00:00:00.000Z', payload: { Records: [] } });

function recordingRedrivers(fail: (letter: StoredDeadLetter) => string | undefined = () => undefined) {
  const calls: { kind: DeadLetterKind; id: string }[] = [];
  const redriver = (kind: DeadLetterKind) => async (letter: StoredDeadLetter) => {
    calls.push({ kind, id: letter.id });
    const reason = fail(letter);
    if (reason) throw new Error(reason);
  };
  return { calls, redrivers: { 'stream-record': redriver('stream-record'), envelope: redriver('envelope'), 'pipe-batch': redriver('pipe-batch'), 'consumer-batch': redriver('consumer-batch') } };
}

describe('redriveDeadLetters', () => {
  it('sends each letter to the redriver of its kind, oldest first, and removes it once that succeeded', async () => {
    const inbox = new FakeInbox([streamRecord('a'), envelope('b'), pipeBatch('p'), consumerBatch('c')]);
    const { calls, redrivers } = recordingRedrivers();
    const outcomes = await redriveDeadLetters(inbox, redrivers, 'all');
    expect(calls).toEqual([
      { kind: 'stream-record', id: 'a' },
      { kind: 'envelope', id: 'b' },
      { kind: 'pipe-batch', id: 'p' },
      { kind: 'consumer-batch', id: 'c' },
    ]);
    expect(outcomes.every((outcome) => outcome.redriven)).toBe(true);
    expect(inbox.removed).toEqual(['a', 'b', 'p', 'c']);
    expect(await inbox.pending()).toEqual([]);
  });

  it('keeps a letter whose redrive fails, with the reason, and goes on with the others', async () => {
    const inbox = new FakeInbox([streamRecord('a'), envelope('b')]);
    const { redrivers } = recordingRedrivers((letter) => (letter.id === 'a' ? 'still unreadable' : undefined));
    const outcomes = await redriveDeadLetters(inbox, redrivers, 'all');
    expect(outcomes).toEqual([
      { id: 'a', source: 'cdc-enrichment', redriven: false, reason: 'still unreadable' },
      { id: 'b', source: 'pipe', redriven: true },
    ]);
    expect((await inbox.pending()).map((letter) => letter.id)).toEqual(['a']);
  });

  it('removes nothing before the redrive has finished', async () => {
    const inbox = new FakeInbox([envelope('b')]);
    let release!: () => void;
    const redrive = redriveDeadLetters(inbox, { ...recordingRedrivers().redrivers, envelope: () => new Promise<void>((resolve) => (release = resolve)) }, ['b']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(inbox.removed).toEqual([]);
    release();
    await redrive;
    expect(inbox.removed).toEqual(['b']);
  });

  it('redrives only the chosen ids, and reports an id that names no pending letter', async () => {
    const inbox = new FakeInbox([streamRecord('a'), envelope('b')]);
    const { calls, redrivers } = recordingRedrivers();
    const outcomes = await redriveDeadLetters(inbox, redrivers, ['b', 'zz']);
    expect(calls).toEqual([{ kind: 'envelope', id: 'b' }]);
    expect(outcomes).toContainEqual({ id: 'zz', source: 'unknown', redriven: false, reason: 'no pending dead letter has this id' });
    expect((await inbox.pending()).map((letter) => letter.id)).toEqual(['a']);
  });

  it('keeps a letter it cannot classify', async () => {
    const inbox = new FakeInbox([{ id: 'x', source: 'dead-letter-store', reason: 'line 3 is not JSON', failedAt: '', payload: '{"sou' }]);
    const outcomes = await redriveDeadLetters(inbox, recordingRedrivers().redrivers, 'all');
    expect(outcomes[0]).toMatchObject({ id: 'x', redriven: false });
    expect(inbox.removed).toEqual([]);
  });
});

describe('deadLetterKind', () => {
  it('tells the kinds apart by source and payload', () => {
    expect(deadLetterKind(streamRecord('a'))).toBe('stream-record');
    expect(deadLetterKind({ ...streamRecord('a'), source: 'pipe' })).toBe('stream-record');
    expect(deadLetterKind(envelope('b'))).toBe('envelope');
    expect(deadLetterKind(consumerBatch('c'))).toBe('consumer-batch');
    expect(deadLetterKind(pipeBatch('p'))).toBe('pipe-batch');
    // A consumer's letter has the same metadata-only shape (KinesisBatchInfo): it goes back through its consumer.
    expect(deadLetterKind({ ...pipeBatch('p'), source: 'consumer:projections' })).toBe('consumer-batch');
    expect(deadLetterKind({ source: 'pipe', reason: '', failedAt: '', payload: null })).toBeUndefined();
  });
});
