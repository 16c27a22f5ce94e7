import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { retryAfterOf, type CartApiCall } from './sdk-pipeline-probe';

/**
 * The cart API as an IAM caller reaches it on AWS (apiAuthorization "iam", the default): each request signed with
 * SigV4 for the `execute-api` service by AWS's maintained signer, with the credentials of the SDK's default chain.
 * The caller's headers (an Idempotency-Key) are signed with the rest.
 */
export function signedCartApi(apiUrl: string, region: string, credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'], send: typeof fetch = fetch): CartApiCall {
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  return async (method, path, body, headers) => {
    const signed = await signCartApiRequest(signer, apiUrl, method, path, body, headers);
    const url = `${apiUrl.replace(/\/$/, '')}${path}`;
    const response = await send(url, { method, headers: signed.headers, ...(signed.body === undefined ? {} : { body: signed.body as string }) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // API Gateway's own refusals (403 of a bad signature) are JSON; anything else is kept as text
    }
    return { status: response.status, body: parsed, ...retryAfterOf(response.headers) };
  };
}

/** The signed request: host, x-amz-date, x-amz-content-sha256, authorization (and a session token when there is one). */
export async function signCartApiRequest(signer: SignatureV4, apiUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpRequest> {
  const url = new URL(`${apiUrl.replace(/\/$/, '')}${path}`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const request = new HttpRequest({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    headers: { ...headers, host: url.host, ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(text === undefined ? {} : { body: text }),
  });
  return (await signer.sign(request)) as HttpRequest;
}
