import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { HttpError } from './responses';

export const MAX_BODY_BYTES = 64 * 1024;

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The API's one answer to a body over its limit, whoever measures it first (the handler or a server in front). */
export function payloadTooLarge(): HttpError {
  return new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / 1024} KB)`);
}

/** 413 for a body over MAX_BODY_BYTES, counted in bytes as sent (before any base64 decoding). */
export function refuseOversizedBody(event: APIGatewayProxyEventV2): void {
  if (!event.body) return;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body, 'utf8');
  if (bytes > MAX_BODY_BYTES) throw payloadTooLarge();
}

function rawBody(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * Parses a JSON body against a strict schema. Order matters to clients: size (413), then media type (415),
 * then syntax (400 MALFORMED_JSON), then shape (400 INVALID_REQUEST). An empty body is read as `{}` where allowed.
 */
export function parseJsonBody<T>(event: APIGatewayProxyEventV2, schema: z.ZodType<T>, options: { optional?: boolean } = {}): T {
  refuseOversizedBody(event);
  const text = rawBody(event);
  if (text.trim() === '') {
    if (options.optional) return parseWith(schema, {});
    throw new HttpError(400, 'MISSING_BODY', 'a JSON body is required');
  }
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/json\s*(;.*)?$/i.test(contentType.trim())) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON, sent with content-type: application/json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
  return parseWith(schema, parsed);
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new HttpError(400, 'INVALID_REQUEST', describeIssues(result.error, value));
}

/** One sentence per problem, each naming its field: `sku: sku must be ...; unknown field "colour"`. */
export function describeIssues(error: z.ZodError, input?: unknown): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const path = issue.path.map(String).join('.');
      if (issue.code === 'invalid_type' && path && valueAt(input, issue.path) === undefined) return `${path} is required`;
      if (issue.code === 'invalid_type' && !path) return `the body must be a JSON object, not ${describeJsonType(input)}`;
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** `If-Match: 3` or `If-Match: "3"` (the ETag this API returns). */
export function expectedVersionFrom(event: APIGatewayProxyEventV2): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!match) throw new HttpError(400, 'INVALID_IF_MATCH', 'If-Match must be a cart version, e.g. If-Match: "3"');
  return Number(match[1]);
}
