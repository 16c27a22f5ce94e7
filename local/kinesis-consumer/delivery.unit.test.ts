import { deliverBatch, type DeliverableRecord, type DeliverySettings, type InvokeOutcome } from './delivery';

const records = (n: number, arrivalMs = 1_000): DeliverableRecord[] => Array.from({ length: n }, (_, i) => ({ sequenceNumber: String(100 + i), arrivalMs }));
const settings: DeliverySettings = { maximumRetryAttempts: 2, bisectBatchOnFunctionError: true, maximumRecordAgeInSeconds: 3600 };

/** Runs a delivery against a handler that fails on the given sequence numbers, recording what the mapping did. */
async function run(batch: DeliverableRecord[], fail: (seq: string, attempt: number) => 'ok' | 'partial' | 'throw', options: Partial<DeliverySettings> = {}) {
  const invocations: string[][] = [];
  const checkpoints: string[] = [];
  const discarded: string[][] = [];
  const attempts = new Map<string, number>();
  await deliverBatch(batch, { ...settings, ...options }, {
    invoke: async (attempt): Promise<InvokeOutcome> => {
      invocations.push(attempt.map((r) => r.sequenceNumber));
      for (const [index, record] of attempt.entries()) {
        const n = (attempts.get(record.sequenceNumber) ?? 0) + 1;
        attempts.set(record.sequenceNumber, n);
        const verdict = fail(record.sequenceNumber, n);
        if (verdict === 'throw') return { kind: 'error', reason: 'boom' };
        if (verdict === 'partial') return { kind: 'partial', failedIndex: index, reason: 'failed' };
      }
      return { kind: 'ok' };
    },
    checkpoint: (record) => void checkpoints.push(record.sequenceNumber),
    discard: async (failed) => void discarded.push(failed.map((r) => r.sequenceNumber)),
    sleep: async () => undefined,
    stopped: () => false,
    now: () => 2_000,
  });
  return { invocations, checkpoints, discarded };
}

describe('local event source mapping delivery', () => {
  it('checkpoints after a successful batch', async () => {
    const result = await run(records(3), () => 'ok');
    expect(result).toEqual({ invocations: [['100', '101', '102']], checkpoints: ['102'], discarded: [] });
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
    // every good record was delivered successfully, none discarded with the poison one
    expect(result.invocations.flat().filter((s) => s !== '105')).toEqual(expect.arrayContaining(['100', '101', '102', '103', '104', '106', '107']));
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
});
