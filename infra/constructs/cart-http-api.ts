import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HTTP_ROUTES } from '../../lambdas/http-routes';
import type { DeploymentConfig } from '../config';

export interface CartHttpApiProps {
  readonly stage: string;
  readonly functionFor: (lambdaName: string) => IFunction;
  readonly authorization: Pick<DeploymentConfig, 'apiAuthorization' | 'jwtIssuer' | 'jwtAudience'>;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
}

/**
 * API Gateway HTTP API with the routes of lambdas/http-routes.ts (the local server dispatches with the same table),
 * every route behind an authorizer (IAM by default), throttled, with JSON access logs. The `$default` stage keeps
 * the paths exactly as documented (`/carts/...`, no stage prefix).
 */
export class CartHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: CartHttpApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      apiName: `${props.stage}-cart-api`,
      description: 'Cart commands and reads',
      createDefaultStage: false,
      defaultAuthorizer: authorizerFor(props.authorization),
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const { routeKey, lambda } of HTTP_ROUTES) {
      let integration = integrations.get(lambda);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${lambda}Integration`, props.functionFor(lambda));
        integrations.set(lambda, integration);
      }
      new HttpRoute(this, `Route ${routeKey}`, { httpApi: this.api, routeKey: parseRouteKey(routeKey), integration });
    }
  }
}

function authorizerFor(authorization: CartHttpApiProps['authorization']): IHttpRouteAuthorizer {
  if (authorization.apiAuthorization === 'jwt') {
    return new HttpJwtAuthorizer('JwtAuthorizer', authorization.jwtIssuer!, { jwtAudience: [authorization.jwtAudience!] });
  }
  return new HttpIamAuthorizer();
}

/** "POST /carts/{cartId}" -> method + path; "$default" -> the catch-all route. */
export function parseRouteKey(routeKey: string): HttpRouteKey {
  if (routeKey === '$default') return HttpRouteKey.DEFAULT;
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  const method = match?.[1] as HttpMethod | undefined;
  if (!match || !method || !Object.values(HttpMethod).includes(method)) throw new Error(`unsupported route key in lambdas/http-routes.ts: "${routeKey}"`);
  return HttpRouteKey.with(match[2]!, method);
}
