import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Client factories for every adapter. Endpoints come from the SDK's own service-specific variables
 * (AWS_ENDPOINT_URL_DYNAMODB, _KINESIS, _S3, _SFN), which the local stack sets and AWS leaves unset, so the
 * same handler code talks to the emulators locally and to AWS when deployed.
 */

export function dynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({});
}

export function dynamoDbDocumentClient(client: DynamoDBClient = dynamoDbClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

/** HTTP/1.1: kinesalite refuses HTTP/2, and nothing here needs SubscribeToShard. */
export function kinesisClient(): KinesisClient {
  return new KinesisClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 10_000 }) });
}

export function s3Client(): S3Client {
  const local = Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return new S3Client({
    // s3rver serves path-style only, and stores streamed bodies wrongly under the default checksum mode.
    forcePathStyle: local,
    requestChecksumCalculation: local ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: local ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
  });
}

export function sfnClient(): SFNClient {
  return new SFNClient({});
}
