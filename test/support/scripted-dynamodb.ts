import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What the scripted service answers: a 200 with this body, or an error of this DynamoDB type (400 unless said). */
export type ScriptedAnswer = { readonly ok: unknown } | { readonly error: string; readonly status?: number; readonly fields?: Record<string, unknown> };

/**
 * The SDK's real DynamoDB client (serialization, error classes, its retry strategy) over a request handler that
 * answers as `script` says: for unit tests of adapters that must react to what DynamoDB answers, without a server.
 * `script` gets the operation (`PutItem`, `TransactWriteItems`, ...) and the request's JSON body (attribute values).
 */
export function scriptedDynamoDb(script: (operation: string, input: any) => ScriptedAnswer, maxAttempts = 3): DynamoDBDocumentClient {
  const respond = (statusCode: number, body: unknown) => ({
    response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from(JSON.stringify(body)) },
  });
  const requestHandler = {
    handle: async (request: { headers: Record<string, string>; body: Uint8Array | string }) => {
      const operation = request.headers['x-amz-target']!.split('.')[1]!;
      const input = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body));
      const answer = script(operation, input);
      if ('ok' in answer) return respond(200, answer.ok);
      return respond(answer.status ?? 400, { __type: `com.amazonaws.dynamodb.v20120810#${answer.error}`, message: answer.error, ...answer.fields });
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts, requestHandler });
  return DynamoDBDocumentClient.from(client);
}
