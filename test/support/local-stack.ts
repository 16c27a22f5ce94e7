import { loadLocalConfig, endpointOf, type LocalConfig } from '../../local/config';

/** The stack that global-setup started for this run. */
export function testStack(): LocalConfig & { apiUrl: string } {
  const config = loadLocalConfig();
  return { ...config, apiUrl: endpointOf(config.ports.api) };
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** One HTTP call to the local cart API; the body is parsed as JSON when there is one. */
export async function api<T = any>(method: string, path: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${testStack().apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}
