import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { signCartApiRequest, signedCartApi } from '../adapters/pipeline-probe/signed-http';
import { STACK_OUTPUTS } from '../infra/stack-outputs';
import { AwsStackError, AwsUsageError, resolveAwsStack, takeAwsFlags } from './aws-stack';

jest.setTimeout(30_000);

/** A CloudFormation client whose DescribeStacks answers from the given outputs (or says the stack does not exist). */
function cloudFormationWith(outputs: Record<string, string> | undefined): { client: CloudFormationClient; asked: string[] } {
  const asked: string[] = [];
  const client = new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
  client.send = (async (command: DescribeStacksCommand) => {
    asked.push(command.input.StackName!);
    if (!outputs) throw Object.assign(new Error(`Stack with id ${command.input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [{ StackName: command.input.StackName, Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] };
  }) as never;
  return { client, asked };
}

describe('cdc-cart --aws: the stack outputs', () => {
  // infra/cart-stack.unit.test.ts proves the synthesized template declares every output of STACK_OUTPUTS.
  it('resolves every resource from the outputs of STACK_OUTPUTS alone', async () => {
    const declared = Object.values(STACK_OUTPUTS);
    // DescribeStacks answers exactly those outputs, each value named after its key.
    const { client, asked } = cloudFormationWith(
      Object.fromEntries(declared.map((key) => [key, key === STACK_OUTPUTS.deadLetterQueueUrls ? 'cdc-pipe=https://sqs/q1,consumer-projections=https://sqs/q2' : `value-of-${key}`])),
    );
    const stack = await resolveAwsStack('qa', undefined, client);
    expect(asked).toEqual(['CartEvents-qa']);
    expect(stack).toMatchObject({
      stackName: 'CartEvents-qa',
      region: 'eu-west-1',
      apiUrl: 'value-of-ApiUrl',
      eventStoreTable: 'value-of-EventStoreTableName',
      replayStateMachineArn: 'value-of-replayStateMachineArn',
      eventLogLogGroup: 'value-of-EventLogLogGroupName',
      alarmTopicArn: 'value-of-AlarmTopicArn',
      stage: 'qa',
      deadLetterQueueUrls: { 'cdc-pipe': 'https://sqs/q1', 'consumer-projections': 'https://sqs/q2' },
    });
  });

  it('says which outputs an older stack lacks, and when the stage has no stack', async () => {
    await expect(resolveAwsStack('qa', 'eu-west-1', cloudFormationWith({ ApiUrl: 'https://x' }).client)).rejects.toThrow(/no output .*EventStoreTableName.*deploy this one/);
    await expect(resolveAwsStack('nope', 'eu-west-1', cloudFormationWith(undefined).client)).rejects.toThrow(AwsStackError);
    await expect(resolveAwsStack('nope', 'eu-west-1', cloudFormationWith(undefined).client)).rejects.toThrow('no stack CartEvents-nope in eu-west-1');
  });

  it('takes --aws --stage --region out of a command line, and refuses them half given', () => {
    expect(takeAwsFlags(['--json', '--aws', '--stage', 'prod', '--region=eu-west-1', '--timeout', '60'])).toEqual({ aws: { stage: 'prod', region: 'eu-west-1' }, rest: ['--json', '--timeout', '60'] });
    expect(takeAwsFlags(['ls', '--json'])).toEqual({ rest: ['ls', '--json'] });
    expect(() => takeAwsFlags(['--aws'])).toThrow(AwsUsageError);
    expect(() => takeAwsFlags(['--stage', 'prod'])).toThrow('--stage and --region go with --aws');
  });
});

describe('cdc-cart --aws: signed API requests', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' };

  it('signs for execute-api in the stack region, over host, date, body hash and token', async () => {
    const signer = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials, sha256: Sha256 });
    const request = await signCartApiRequest(signer, 'https://abc123.execute-api.eu-west-1.amazonaws.com/', 'POST', '/carts', { probe: true });
    expect(request).toMatchObject({ method: 'POST', hostname: 'abc123.execute-api.eu-west-1.amazonaws.com', path: '/carts', body: '{"probe":true}' });
    expect(request.headers['x-amz-security-token']).toBe('session');
    expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
  });

  it('sends the signed headers and parses the answer', async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const send = (async (url: string, init: RequestInit) => {
      sent.push({ url, init });
      return new Response(JSON.stringify({ cartId: '00000000-1111-4222-8333-444444444444', version: 1 }), { status: 201 });
    }) as unknown as typeof fetch;
    const api = signedCartApi('https://abc123.execute-api.eu-west-1.amazonaws.com', 'eu-west-1', credentials, send);
    expect(await api('POST', '/carts', { probe: true })).toEqual({ status: 201, body: { cartId: '00000000-1111-4222-8333-444444444444', version: 1 } });
    expect(sent[0]!.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/carts');
    expect(Object.keys(sent[0]!.init.headers as Record<string, string>)).toEqual(expect.arrayContaining(['authorization', 'x-amz-date', 'host']));
  });

  it("signs the caller's Idempotency-Key with the rest, and reads an answer's Retry-After", async () => {
    const sent: RequestInit[] = [];
    const send = (async (_url: string, init: RequestInit) => {
      sent.push(init);
      return new Response(JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE' } }), { status: 503, headers: { 'retry-after': '2' } });
    }) as unknown as typeof fetch;
    const api = signedCartApi('https://abc123.execute-api.eu-west-1.amazonaws.com', 'eu-west-1', credentials, send);
    expect(await api('POST', '/carts', { probe: true }, { 'idempotency-key': 'k-1' })).toEqual({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } }, retryAfter: 2 });
    const headers = sent[0]!.headers as Record<string, string>;
    expect(headers['idempotency-key']).toBe('k-1');
    expect(headers.authorization).toMatch(/SignedHeaders=content-type;host;idempotency-key;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });
});
