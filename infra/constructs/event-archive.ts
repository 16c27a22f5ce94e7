import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AppendDelimiterToRecordProcessor, Compression, DeliveryStream, EnableLogging, KinesisStreamSource, S3Bucket } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, CfnBucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_EVENTS_PREFIX } from '../../application/replay-window';
import { REPLAY_REJECTS_EXPIRE_AFTER_DAYS, REPLAY_REJECTS_PREFIX } from '../../application/replay-lines';
import { REPLAY_RESULTS } from '../../statemachines/state-machines';

/** Archive object keys: the replay lists them by hour, so the layout is part of its contract (application/). */
export const ARCHIVE_PREFIX = ARCHIVE_EVENTS_PREFIX;
export const ARCHIVE_KEY_PREFIX = `${ARCHIVE_PREFIX}!{timestamp:yyyy/MM/dd/HH}/`;
export const ARCHIVE_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';

export interface EventArchiveProps {
  readonly stage: string;
  readonly source: IStream;
  readonly infrequentAccessAfterDays: number;
  readonly glacierInstantRetrievalAfterDays: number;
  readonly noncurrentVersionsExpireAfterDays: number;
  readonly logRetention: RetentionDays;
}

/**
 * Long-term archive of every event: Amazon Data Firehose reads the Kinesis stream and writes JSON Lines (each
 * record followed by "\n") to S3 under events/YYYY/MM/DD/HH/. Objects move to cheaper storage classes that still
 * serve GetObject immediately (Standard-IA, then Glacier Instant Retrieval), so a replay works on any age.
 */
export class EventArchive extends Construct {
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;
  readonly deliveryStream: DeliveryStream;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the archive bucket\'s server access logs; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'cheaper-storage-as-events-age',
          prefix: ARCHIVE_PREFIX,
          transitions: [
            { storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays) },
            { storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(props.glacierInstantRetrievalAfterDays) },
          ],
        },
        {
          // The replay's Map Run results are read once, by its summary step: without this they pile up forever.
          id: 'expire-replay-results',
          prefix: `${REPLAY_RESULTS.prefix}/`,
          expiration: Duration.days(REPLAY_RESULTS.expireAfterDays),
        },
        {
          // Bad lines a replay set aside: kept long enough to investigate and mend (npm run replay-rejects), not forever.
          id: 'expire-replay-rejects',
          prefix: REPLAY_REJECTS_PREFIX,
          expiration: Duration.days(REPLAY_REJECTS_EXPIRE_AFTER_DAYS),
        },
        {
          id: 'expire-replaced-versions-and-uploads',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionsExpireAfterDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    // The L2 would grant its role read/write on the whole bucket (s3:DeleteObject*, s3:List*, ...). It gets the
    // role without policy updates instead, and the role gets exactly what AWS documents for a Kinesis-sourced S3
    // delivery, on the two prefixes Firehose writes.
    const logGroup = new LogGroup(this, 'FirehoseLogs', { retention: props.logRetention });
    const role = new Role(this, 'FirehoseRole', { assumedBy: new ServicePrincipal('firehose.amazonaws.com') });
    for (const statement of [
      new PolicyStatement({
        actions: ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
        resources: [props.source.streamArn],
      }),
      new PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`), this.bucket.arnForObjects('errors/*')],
      }),
      new PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    ]) {
      role.addToPrincipalPolicy(statement);
    }
    for (const prefix of [ARCHIVE_PREFIX, 'errors/']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/${prefix}*]`,
        reason: `Firehose writes objects with generated names under ${prefix}; the grant is limited to that prefix.`,
      });
    }
    const fixedRole = role.withoutPolicyUpdates();

    this.deliveryStream = new DeliveryStream(this, 'Firehose', {
      deliveryStreamName: `${props.stage}-cart-events-archive`,
      source: new KinesisStreamSource(props.source),
      role: fixedRole,
      destination: new S3Bucket(this.bucket, {
        role: fixedRole,
        loggingConfig: new EnableLogging(logGroup),
        dataOutputPrefix: ARCHIVE_KEY_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        fileExtension: '.jsonl',
        // Plain JSON Lines: the replay and backfill read the objects as they are.
        compression: Compression.UNCOMPRESSED,
        bufferingInterval: Duration.seconds(60),
        bufferingSize: Size.mebibytes(8),
        processors: [new AppendDelimiterToRecordProcessor()],
      }),
    });
    // Firehose checks its role when the delivery stream is created: the policy must exist first.
    this.deliveryStream.node.addDependency(role);
    Validations.of(this.deliveryStream).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason: 'Firehose cannot enable its own server-side encryption with a Kinesis stream source; the data is encrypted in the source stream (KMS), in transit (TLS) and at rest in S3 (SSE-S3).',
    });
  }
}
