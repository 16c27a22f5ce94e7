import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface ProjectionTableSpec {
  /** Projection name as the replay input names it, e.g. "cart-summary". */
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  readonly globalSecondaryIndexes?: readonly {
    readonly indexName: string;
    readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
    readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  }[];
}

export interface ProjectionTablesProps {
  readonly stage: string;
  readonly projections: readonly ProjectionTableSpec[];
}

/**
 * Read models built from the events stream. They can always be rebuilt from the archive (replay with rebuild), so
 * unlike the event store they are destroyed with the stack; point-in-time recovery still shortens a recovery.
 */
export class ProjectionTables extends Construct {
  readonly tables: ReadonlyMap<string, Table>;

  constructor(scope: Construct, id: string, props: ProjectionTablesProps) {
    super(scope, id);
    const tables = new Map<string, Table>();
    for (const spec of props.projections) {
      const table = new Table(this, spec.name, {
        tableName: `${props.stage}-${spec.name}`,
        partitionKey: { name: spec.partitionKey.name, type: attributeType(spec.partitionKey.type) },
        sortKey: spec.sortKey ? { name: spec.sortKey.name, type: attributeType(spec.sortKey.type) } : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      for (const index of spec.globalSecondaryIndexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
          sortKey: index.sortKey ? { name: index.sortKey.name, type: attributeType(index.sortKey.type) } : undefined,
        });
      }
      tables.set(spec.name, table);
    }
    this.tables = tables;
  }

  get(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw new Error(`no projection table "${name}"`);
    return table;
  }
}

function attributeType(type: 'S' | 'N'): AttributeType {
  return type === 'S' ? AttributeType.STRING : AttributeType.NUMBER;
}
