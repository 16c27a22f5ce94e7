import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HTTP_ROUTES } from '../../lambdas/http-routes';
import { CartHttpApi, parseRouteKey } from './cart-http-api';
import { EventsStream } from './events-stream';

/** Configuration variants, on small stacks of one construct (the full stack is asserted in ../cart-stack.unit.test.ts). */
describe('events stream capacity', () => {
  test('a shard count in context gives a provisioned stream of that many shards', () => {
    const stack = new Stack();
    new EventsStream(stack, 'Events', { stage: 'prod', shardCount: 4, retentionHours: 48 });
    Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 4,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 48,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });
});

describe('cart HTTP API authorization', () => {
  const apiWith = (authorization: ConstructorParameters<typeof CartHttpApi>[2]['authorization']) => {
    const stack = new Stack();
    const fn = new LambdaFunction(stack, 'Fn', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler=async()=>({})') });
    new CartHttpApi(stack, 'Api', { stage: 'dev', functionFor: () => fn, authorization, throttle: { rateLimit: 1, burstLimit: 2 }, logRetention: RetentionDays.ONE_WEEK });
    return Template.fromStack(stack);
  };

  test('JWT: every route checks tokens of the configured issuer and audience', () => {
    const template = apiWith({ apiAuthorization: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'cart' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['cart'] },
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(HTTP_ROUTES.length);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('JWT');
  });

  test('IAM: every route needs SigV4-signed requests', () => {
    const routes = Object.values(apiWith({ apiAuthorization: 'iam' }).findResources('AWS::ApiGatewayV2::Route'));
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('route keys it cannot express are refused', () => {
    expect(() => parseRouteKey('FETCH /carts')).toThrow(/unsupported route key/);
    expect(() => parseRouteKey('/carts')).toThrow(/unsupported route key/);
    expect(parseRouteKey('$default').key).toBe('$default');
  });
});
