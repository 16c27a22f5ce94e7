import { deliverBatch, type DeliverableRecord, type DeliverySettings, type InvokeOutcome } from './delivery';
import { invokeOutcome } from './event-source-mapping';

const records = (n: number, arrivalMs = 1_000): DeliverableRecord[] => Array.from({ length: n }, (_, i) => ({ sequenceNumber: String(100 + i), arrivalMs }));
const settings: DeliverySettings = { maximumRetryAttempts: 2, bisectBatchOnFunctionError: true, maximumRecordAgeInSeconds: 3600 };

/** Runs a delivery against a handler that fails on the given sequence numbers, recording what the mapping did. */
async function run(batch: DeliverableRecord[], fail: (seq: string, attempt: number) => 'ok' | 'partial' | 'throw', options: Partial<DeliverySettings> = {}) {
  const invocations: string[][] = [];
  const checkpoints: string[] = [];
  const discarded: string[][] = [];
  /** Records the handler succeeded on: a whole ok invocation, or the part before a partial failure. */
  const delivered: string[] = [];
  const attempts = new Map<string, number>();
  await deliverBatch(batch, { ...settings, ...options }, {
    invoke: async (attempt): Promise<InvokeOutcome> => {
      invocations.push(attempt.map((r) => r.sequenceNumber));
      for (const [index, record] of attempt.entries()) {
        const n = (attempts.get(record.sequenceNumber) ?? 0) + 1;
        attempts.set(record.sequenceNumber, n);
        const verdict = fail(record.sequenceNumber, n);
        if (verdict === 'throw') return { kind: 'error', reason: 'boom' };
        if (verdict === 'partial') {
          delivered.push(...attempt.slice(0, index).map((r) => r.sequenceNumber));
          return { kind: 'partial', failedIndex: index, reason: 'failed' };
        }
      }
      delivered.push(...attempt.map((r) => r.sequenceNumber));
      return { kind: 'ok' };
    },
    checkpoint: (record) => void checkpoints.push(record.sequenceNumber),
    discard: async (failed) => void discarded.push(failed.map((r) => r.sequenceNumber)),
    sleep: async () => undefined,
    stopped: () => false,
    now: () => 2_000,
  });
  return { invocations, checkpoints, discarded, delivered };
}

describe('local event source mapping delivery', () => {
  it('checkpoints after a successful batch', async () => {
    const result = await run(records(3), () => 'ok');
    expect(result).toEqual({ invocations: [['100', '101', '102']], checkpoints: ['102'], discarded: [], delivered: ['100', '101', '102'] });
  });

  it('on a partial batch response, checkpoints before the first failure and retries from it', async () => {
    const result = await run(records(4), (seq, attempt) => (seq === '102' && attempt === 1 ? 'partial' : 'ok'));
    expect(result.invocations).toEqual([
      ['100', '101', '102', '103'],
      ['102', '103'],
    ]);
    expect(result.checkpoints).toEqual(['101', '103']);
    expect(result.discarded).toEqual([]);
  });

  it('sends a record that keeps failing to the on-failure destination after the retries, and goes on', async () => {
    const result = await run(records(3), (seq) => (seq === '101' ? 'partial' : 'ok'));
    // first try + 2 retries on 101, then it is discarded and 102 is delivered
    expect(result.invocations.filter((batch) => batch.includes('101'))).toHaveLength(3);
    expect(result.discarded).toEqual([['101']]);
    expect(result.checkpoints).toEqual(['100', '101', '102']);
  });

  it('bisects a throwing batch down to the poison record without spending retries on the halves', async () => {
    const result = await run(records(8), (seq) => (seq === '105' ? 'throw' : 'ok'));
    expect(result.discarded).toEqual([['105']]);
    expect(result.checkpoints.at(-1)).toBe('107');
    // every good record was delivered successfully, exactly once and in order; none discarded with the poison one
    expect(result.delivered).toEqual(['100', '101', '102', '103', '104', '106', '107']);
  });

  it('without bisect, a throwing batch is discarded whole once the retries are spent', async () => {
    const result = await run(records(3), (seq) => (seq === '101' ? 'throw' : 'ok'), { bisectBatchOnFunctionError: false });
    expect(result.invocations).toHaveLength(3);
    expect(result.discarded).toEqual([['100', '101', '102']]);
    expect(result.checkpoints).toEqual(['102']);
  });

  it('sends records older than the maximum record age to the on-failure destination without invoking', async () => {
    const result = await run(records(2, -3_600_000), () => 'ok');
    expect(result.invocations).toEqual([]);
    expect(result.discarded).toEqual([['100', '101']]);
    expect(result.checkpoints).toEqual(['101']);
  });

  it('treats a partial batch response naming a record that is not in the batch as a function error', () => {
    expect(invokeOutcome({ batchItemFailures: [{ itemIdentifier: '999' }] }, ['100', '101'])).toEqual({ kind: 'error', reason: expect.stringContaining('not in the batch') });
    expect(invokeOutcome({ batchItemFailures: [{ itemIdentifier: '' }] }, ['100', '101']).kind).toBe('error');
    expect(invokeOutcome({ batchItemFailures: [{ itemIdentifier: '101' }, { itemIdentifier: '100' }] }, ['100', '101'])).toMatchObject({ kind: 'partial', failedIndex: 0 });
    expect(invokeOutcome({ batchItemFailures: [] }, ['100'])).toEqual({ kind: 'ok' });
    expect(invokeOutcome(undefined, ['100'])).toEqual({ kind: 'ok' });
  });

  it('retries the whole batch after an unknown itemIdentifier (function error) and bisects it like one', async () => {
    let first = true;
    const invocations: string[][] = [];
    await deliverBatch(records(4), settings, {
      invoke: async (attempt) => {
        invocations.push(attempt.map((r) => r.sequenceNumber));
        const outcome = invokeOutcome(first ? { batchItemFailures: [{ itemIdentifier: 'not-a-record' }] } : undefined, attempt.map((r) => r.sequenceNumber));
        first = false;
        return outcome;
      },
      checkpoint: () => undefined,
      discard: async () => undefined,
      sleep: async () => undefined,
      stopped: () => false,
      now: () => 2_000,
    });
    expect(invocations).toEqual([
      ['100', '101', '102', '103'],
      ['100', '101'],
      ['102', '103'],
    ]);
  });
});
