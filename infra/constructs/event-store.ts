import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENT_STORE_KEY } from '../../adapters/dynamodb/event-store-table';

export interface EventStoreProps {
  readonly stage: string;
  /**
   * The stream ARN of an event store table that a destroyed stack retained (`<stage>-cart-events`): the stack
   * then uses that table instead of creating one (which would fail: the name is taken). See docs/deploying.md,
   * "Destroy and deploy again": `cdk deploy --import-existing-resources` without this key brings it back under the
   * stack's management (CloudFormation imports a named, retained resource automatically).
   */
  readonly adoptStreamArn?: string;
}

/**
 * The source of truth: one item per event (key schema shared with the adapter), its stream feeding the CDC Pipe,
 * and the Powertools idempotency table of the cart API. The event store is retained and protected from deletion:
 * losing it loses the carts. Its name is fixed and literal (the runbook and the CLI name it, and CloudFormation's
 * automatic import finds a retained resource by a static name only), so after a destroy the next deploy, with
 * --import-existing-resources, takes the retained table over rather than failing to create it again.
 */
export class EventStore extends Construct {
  readonly table: ITable;
  readonly idempotencyTable: Table;

  constructor(scope: Construct, id: string, props: EventStoreProps) {
    super(scope, id);
    const tableName = `${props.stage}-cart-events`;
    this.table = props.adoptStreamArn
      ? Table.fromTableAttributes(this, 'Events', { tableName, tableStreamArn: props.adoptStreamArn })
      : this.createTable(tableName);
    // Records of Idempotency-Key requests (Powertools idempotency: key `id`, expiry epoch seconds in `expiration`).
    // Destroyed with the stack: an idempotency record lives for an hour, and a retained table would block the name.
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

  private createTable(tableName: string): Table {
    return new Table(this, 'Events', {
      tableName,
      partitionKey: { name: EVENT_STORE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: EVENT_STORE_KEY.sortKey, type: AttributeType.NUMBER },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
