import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface RouteMatch {
  readonly routeKey: string;
  readonly pathParameters?: Record<string, string>;
}

/** Matches a method and path against API Gateway route keys such as `POST /carts/{cartId}/items`. */
export function matchRoute(routeKeys: readonly string[], method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').slice(1);
  for (const routeKey of routeKeys) {
    if (routeKey === '$default') continue;
    const [routeMethod, template = ''] = routeKey.split(' ');
    if (routeMethod !== method) continue;
    const parts = template.split('/').slice(1);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matched = parts.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith('{') && part.endsWith('}')) {
        if (segment === '') return false;
        params[part.slice(1, -1)] = segment;
        return true;
      }
      return part === segment;
    });
    if (matched) return Object.keys(params).length > 0 ? { routeKey, pathParameters: decodeParams(params) } : { routeKey };
  }
  return routeKeys.includes('$default') ? { routeKey: '$default' } : undefined;
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  // API Gateway hands path parameters over percent-decoded; a malformed escape is kept as sent.
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => {
      try {
        return [key, decodeURIComponent(value)];
      } catch {
        return [key, value];
      }
    }),
  );
}

/** Builds the payload-v2 event that API Gateway's HTTP API would hand the Lambda for this request. */
/**
 * The path exactly as sent: WHATWG URL parsing would resolve `..` segments, which API Gateway hands over as is,
 * and which must reach the handlers (and their validation) unchanged.
 */
export function rawPathOf(request: IncomingMessage): string {
  const target = request.url ?? '/';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

export function toHttpApiEvent(request: IncomingMessage, body: Buffer, match: RouteMatch): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const rawPath = rawPathOf(request);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now.getTime()}-${Math.random().toString(36).slice(2, 10)}`,
      routeKey: match.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? body.toString('utf8') : undefined,
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}
