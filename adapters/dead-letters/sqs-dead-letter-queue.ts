import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../aws-clients';
import type { DeadLetter, DeadLetterQueue } from '../../application/dead-letters';

/** SQS takes at most 10 messages per batch and 256 KiB per batch. */
const MAX_MESSAGES_PER_BATCH = 10;
const MAX_BATCH_BYTES = 256 * 1024;
/** Room left in a message for the letter's other fields when its payload has to be left out. */
const MAX_PAYLOAD_BYTES = MAX_BATCH_BYTES - 16 * 1024;

/**
 * Sends dead letters to an SQS queue (on AWS, the CDC Pipe's dead-letter queue). A letter whose payload does not
 * fit in a message keeps its reason and ids (which name the item in its source) and says the payload was left out.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = sqsClient(),
  ) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const bodies = letters.map(messageBody);
    for (const batch of batches(bodies)) {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: body })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        const first = result.Failed[0]!;
        throw new Error(`SQS refused ${result.Failed.length} dead letter(s): ${first.Code} ${first.Message ?? ''}`.trim());
      }
    }
  }
}

function messageBody(letter: DeadLetter): string {
  const body = JSON.stringify(letter);
  if (Buffer.byteLength(body) <= MAX_PAYLOAD_BYTES) return body;
  return JSON.stringify({ ...letter, payload: { omitted: `payload of ${Buffer.byteLength(body)} bytes exceeds an SQS message` } });
}

function batches(bodies: string[]): string[][] {
  const result: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length === MAX_MESSAGES_PER_BATCH || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}
