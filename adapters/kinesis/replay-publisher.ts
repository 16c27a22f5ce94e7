import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Throttled, type EventRepublisher } from '../../application/replay-ports';
import type { EventEnvelope } from '../../domain/events';
import { throttledAs } from '../throttling';

const MAX_RECORDS_PER_PUT = 500;
const MAX_ATTEMPTS = 5;

/**
 * Puts replayed events back on the stream, partitioned by cart as the Pipe does. Records Kinesis refuses one by
 * one (ProvisionedThroughputExceeded) are put again with backoff; after MAX_ATTEMPTS the step fails as
 * Throttled and the state machine retries the whole object (consumers skip what they applied already).
 */
export class KinesisRepublisher implements EventRepublisher {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<number> {
    for (let start = 0; start < events.length; start += MAX_RECORDS_PER_PUT) {
      await this.putAll(events.slice(start, start + MAX_RECORDS_PER_PUT));
    }
    return events.length;
  }

  private async putAll(batch: readonly EventEnvelope[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Throttled(`${pending.length} record(s) still refused by Kinesis after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 1) await this.sleep(Math.random() * 100 * 2 ** attempt);
      const result = await throttledAs('put records', () =>
        this.kinesis.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: pending.map((event) => ({ PartitionKey: event.aggregateId, Data: Buffer.from(JSON.stringify(event)) })),
          }),
        ),
      );
      const refused = pending.filter((_, index) => result.Records?.[index]?.ErrorCode);
      pending = refused;
    }
  }
}
