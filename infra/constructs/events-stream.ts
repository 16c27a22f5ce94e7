import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';

export interface EventsStreamProps {
  readonly stage: string;
  /** 0: on-demand capacity; otherwise provisioned with this many shards. */
  readonly shardCount: number;
  readonly retentionHours: number;
}

/**
 * The Kinesis data stream of domain events: one record per event, partition key = aggregateId, so a cart's
 * events stay in order on one shard while carts spread over all shards. Encrypted at rest with the AWS managed key.
 */
export class EventsStream extends Construct {
  readonly stream: Stream;

  constructor(scope: Construct, id: string, props: EventsStreamProps) {
    super(scope, id);
    const capacity = props.shardCount > 0 ? { streamMode: StreamMode.PROVISIONED, shardCount: props.shardCount } : { streamMode: StreamMode.ON_DEMAND };
    this.stream = new Stream(this, 'Stream', {
      // Not the event store table's name: one name for two resources misleads every console, log and alarm.
      streamName: `${props.stage}-cart-events-stream`,
      ...capacity,
      retentionPeriod: Duration.hours(props.retentionHours),
      encryption: StreamEncryption.MANAGED,
      // Destroyed with the stack: it is transport, not storage (every event is in the event store, and archived in
      // S3), and a retained on-demand stream bills every hour and blocks its name on the next deploy. Events still
      // in flight at destroy time are restored by the backfill that runs when the archive is created again.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
