import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter } from '../../application/dead-letters';
import { SqsDeadLetterQueue } from './sqs-dead-letter-queue';

/** SQS's limits (AWS docs): at most 10 messages and 256 KiB (262,144 bytes) per SendMessageBatch. */
const SQS_MAX_BATCH_BYTES = 262_144;

function fakeSqs(failIds: string[] = []) {
  const batches: { QueueUrl?: string; Entries: { Id: string; MessageBody: string }[] }[] = [];
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
      const entries = command.input.Entries!.map((entry) => ({ Id: entry.Id!, MessageBody: entry.MessageBody! }));
      batches.push({ QueueUrl: command.input.QueueUrl, Entries: entries });
      const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody), 0);
      if (entries.length > 10 || bytes > SQS_MAX_BATCH_BYTES) throw Object.assign(new Error('batch too large'), { name: 'BatchRequestTooLong' });
      return { Successful: entries.filter((e) => !failIds.includes(e.Id)).map((e) => ({ Id: e.Id })), Failed: entries.filter((e) => failIds.includes(e.Id)).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' })) };
    },
  };
  return { batches, client: client as unknown as SQSClient };
}

const letter = (payloadBytes: number, n = 0): DeadLetter => ({
  source: 'cdc-enrichment',
  reason: `record ${n} adds an event no schema accepts`,
  failedAt: '2026-01-01T00:00:00.000Z',
  ids: { eventID: `record-${n}`, problem: 'rejected-event' },
  payload: { blob: 'x'.repeat(payloadBytes) },
});

describe('SqsDeadLetterQueue', () => {
  it('leaves out a payload too large for SQS, keeping the reason and ids and saying why', async () => {
    const { batches, client } = fakeSqs();
    await new SqsDeadLetterQueue('https://sqs/queue', client).send([letter(300 * 1024)]);
    const [body] = batches.flatMap((batch) => batch.Entries.map((entry) => entry.MessageBody));
    expect(Buffer.byteLength(body!)).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    const sent = JSON.parse(body!);
    expect(sent).toMatchObject({ source: 'cdc-enrichment', reason: 'record 0 adds an event no schema accepts', ids: { eventID: 'record-0' } });
    expect(sent.payload).toEqual({ omitted: expect.stringMatching(/^payload of \d+ bytes exceeds an SQS message$/) });
  });

  it('keeps a payload that fits, and splits letters into batches SQS accepts (10 messages, 256 KiB)', async () => {
    const { batches, client } = fakeSqs();
    const letters = [letter(10), ...Array.from({ length: 12 }, (_, n) => letter(60 * 1024, n + 1))];
    await new SqsDeadLetterQueue('https://sqs/queue', client).send(letters);
    const bodies = batches.flatMap((batch) => batch.Entries.map((entry) => JSON.parse(entry.MessageBody)));
    expect(bodies).toEqual(letters);
    expect(batches.length).toBeGreaterThan(2);
  });

  it('rejects when SQS refuses any letter, so that the caller keeps the records', async () => {
    const { client } = fakeSqs(['1']);
    await expect(new SqsDeadLetterQueue('https://sqs/queue', client).send([letter(10, 0), letter(10, 1)])).rejects.toThrow('SQS refused 1 dead letter(s): InternalError try again');
  });
});
