import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENT_STORE_KEY } from '../../adapters/dynamodb/event-store-table';

export interface EventStoreProps {
  readonly stage: string;
}

/**
 * The source of truth: one item per event (key schema shared with the adapter), its stream feeding the CDC Pipe,
 * and the Powertools idempotency table of the cart API. The event store is retained and protected from deletion:
 * losing it loses the carts.
 */
export class EventStore extends Construct {
  readonly table: Table;
  readonly idempotencyTable: Table;

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    this.table = new Table(this, 'Events', {
      tableName: `${props.stage}-cart-events`,
      partitionKey: { name: EVENT_STORE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: EVENT_STORE_KEY.sortKey, type: AttributeType.NUMBER },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Records of Idempotency-Key requests (Powertools idempotency: key `id`, expiry epoch seconds in `expiration`).
    this.idempotencyTable = new Table(this, 'Idempotency', {
      tableName: `${props.stage}-cart-idempotency`,
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
