import { request } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent as is, without the normalisation fetch() applies (so `..` and odd escapes reach the server). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export function sendRaw(port: number, raw: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Framed with Content-Length as real clients do: Node sends a GET body unframed otherwise.
    const headers = raw.body === undefined ? raw.headers : { ...raw.headers, 'content-length': String(Buffer.byteLength(raw.body)) };
    const req = request(
      { host: '127.0.0.1', port, method: raw.method, path: raw.path, headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${raw.method} ${raw.path}`)));
    req.on('error', reject);
    if (raw.body !== undefined) req.write(raw.body);
    req.end();
  });
}
