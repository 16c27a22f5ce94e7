import fc from 'fast-check';
import { HTTP_ROUTES } from '../../../lambdas/http-routes';
import type { RawRequest } from './raw-http';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Strings a sku must never be: wrong length, wrong alphabet, control characters, lone surrogates. */
const badSku = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 65, maxLength: 300 }).map((s) => `A${s}`.padEnd(65, 'x')),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s}\u0000`),
  fc.constantFrom('\u0007bell', 'tab\there', 'new\nline', 'sp ace', 'sku/slash', '../etc', 'é-accent', '😀', '\u202Ereversed', '<script>'),
  fc.constant('\ud800'),
  fc.constant('a\udfffb'),
);

const notNumberOrString = fc.oneof(fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));
const wrongTypedSku = fc.oneof(fc.integer(), fc.double(), notNumberOrString);
const wrongTypedQuantity = fc.oneof(fc.string({ maxLength: 6 }), notNumberOrString);

/** Quantities as raw JSON text, so that non-finite and enormous numbers reach the server as written. */
const badQuantityJson = fc.oneof(
  fc.integer({ min: -1_000_000, max: 0 }).map(String),
  fc.integer({ min: 1_001, max: 2_000_000_000 }).map(String),
  fc.double({ min: 0.01, max: 999, noInteger: true, noNaN: true }).map(String),
  fc.constantFrom('1e309', '-1e309', '1e21', '9007199254740993', '-0.5', '"5"', 'true', 'null', '[1]', '{"n":1}'),
);

const malformedJson = fc.oneof(
  fc.constantFrom('{', '{"sku":', '{"sku":"A",}', "{'sku':'A'}", '{"sku":"A" "quantity":1}', 'NaN', '{"sku":"A","quantity":NaN}', '\u0000', '[', '{"sku":"\\x41"}', '{"sku":"A"}}'),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

const pathTrick = (cartId: string) =>
  fc.constantFrom(
    '/carts/..',
    '/carts/../carts',
    `/carts/${cartId}/../../health`,
    '/carts/%2e%2e',
    '/carts/%2e%2e%2fhealth',
    `/carts/${cartId}%00`,
    `/carts/${cartId}%2Fitems`,
    '/carts/%ZZ',
    `/carts/${'9'.repeat(5_000)}`,
    '/carts/not-a-uuid',
    '/carts/00000000-0000-0000-0000-00000000000g',
    `/carts/${cartId.toUpperCase()}x`,
    '//carts',
    '/carts//items',
    `/carts/${cartId}/items/%2e%2e%2f%2e%2e`,
    `/carts/${cartId}/items/%00`,
    `/carts/${cartId}/items/${'s'.repeat(65)}`,
    `/carts/${cartId}/items/%C0%AE%C0%AE`,
    `/carts/${cartId}/items/%ED%A0%80`,
    '/CARTS',
    '/carts?cartId=../../',
    '/read/../carts',
  );

/**
 * Every kind of request the issue names as hostile: bad JSON, wrong types, huge strings, control characters and
 * lone surrogates, path tricks in ids, negative, fractional and huge quantities, unknown fields, wrong content
 * types. Each must be answered with a 4xx JSON error and must write nothing.
 */
export function hostileRequest(cartId: string): fc.Arbitrary<RawRequest> {
  const itemsPath = `/carts/${cartId}/items`;
  return fc.oneof(
    malformedJson.map((body) => ({ method: 'POST', path: itemsPath, headers: JSON_HEADERS, body })),
    badSku.map((sku) => ({ method: 'POST', path: itemsPath, headers: JSON_HEADERS, body: JSON.stringify({ sku, quantity: 1 }) })),
    wrongTypedSku.map((sku) => ({ method: 'POST', path: itemsPath, headers: JSON_HEADERS, body: JSON.stringify({ sku, quantity: 1 }) })),
    wrongTypedQuantity.map((quantity) => ({ method: 'POST', path: itemsPath, headers: JSON_HEADERS, body: JSON.stringify({ sku: 'SKU-1', quantity }) })),
    badQuantityJson.map((quantity) => ({ method: 'POST', path: itemsPath, headers: JSON_HEADERS, body: `{"sku":"SKU-1","quantity":${quantity}}` })),
    fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== 'sku' && k !== 'quantity').map((field) => ({
      method: 'POST',
      path: itemsPath,
      headers: JSON_HEADERS,
      body: JSON.stringify({ sku: 'SKU-1', quantity: 1, [field]: 'x' }),
    })),
    fc.integer({ min: 64 * 1024 + 1, max: 300_000 }).map((size) => ({
      method: 'POST',
      path: itemsPath,
      headers: JSON_HEADERS,
      body: JSON.stringify({ sku: 'S'.repeat(size), quantity: 1 }),
    })),
    fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonx', 'json').map((type) => ({
      method: 'POST',
      path: itemsPath,
      headers: { 'content-type': type },
      body: '{"sku":"SKU-1","quantity":1}',
    })),
    fc.constant({ method: 'POST', path: itemsPath, body: '{"sku":"SKU-1","quantity":1}' }),
    badQuantityJson.map((q) => ({ method: 'DELETE', path: `${itemsPath}/SKU-1?quantity=${encodeURIComponent(q)}` })),
    fc.constantFrom('', 'abc', '1.5', '-1', '0', '1001', '1e3', '0x10', '%00').map((q) => ({ method: 'DELETE', path: `${itemsPath}/SKU-1?quantity=${q}` })),
    pathTrick(cartId).chain((path) => fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH').map((method) => ({ method, path, headers: JSON_HEADERS, body: '{"sku":"SKU-1"}' }))),
    fc.constantFrom('abc', '-1', '1.5', '"x"', 'W/', '*1', '99999999999999999999').map((ifMatch) => ({
      method: 'POST',
      path: itemsPath,
      headers: { ...JSON_HEADERS, 'if-match': ifMatch },
      body: '{"sku":"SKU-1","quantity":1}',
    })),
    fc.oneof(malformedJson, fc.constant('{"unexpected":true}'), fc.constant('[]'), fc.constant('"string"')).map((body) => ({ method: 'POST', path: '/carts', headers: JSON_HEADERS, body })),
    fc.oneof(malformedJson, fc.constant('{"force":true}')).map((body) => ({ method: 'POST', path: `/carts/${cartId}/close`, headers: JSON_HEADERS, body })),
    // Every write route of lambdas/http-routes.ts, a route added there included: bad JSON and unknown fields.
    fc
      .constantFrom(...writePaths(cartId))
      .chain(({ method, path }) => fc.oneof(malformedJson, fc.constant('{"sku":"SKU-1","quantity":1,"unexpected":true}'), fc.constant('[]')).map((body) => ({ method, path, headers: JSON_HEADERS, body }))),
  );
}

/** The cart API's write routes with their parameters filled in: cartId, and SKU-1 for a sku. */
function writePaths(cartId: string): { method: string; path: string }[] {
  return HTTP_ROUTES.map(({ routeKey }) => routeKey.split(' '))
    .filter(([method, path]) => path !== undefined && method !== 'GET' && path.includes('{cartId}'))
    .map(([method, path]) => ({ method: method!, path: path!.replace('{cartId}', cartId).replace('{sku}', 'SKU-1') }));
}
