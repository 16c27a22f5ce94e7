import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

/**
 * A seam for the local stack's chaos (local/chaos/aws-call-faults.ts): faults injected at the SDK's HTTP handler, so
 * that the SDK's real retry path runs above them. Off unless a local component installed an injector in this process
 * before creating its clients; nothing deployed installs one, and a client created without one is not wrapped.
 * Installed on globalThis, not in a module variable, so that handlers loaded from their bundles (their own copy
 * of this file) see it too.
 */
export interface AwsCallFaultInjector {
  /** Before a request is sent: may hold it (a stall). */
  beforeSend(service: string, request: AwsHttpRequest): Promise<void>;
  /** After the service answered a request: 'lost' throws an error in place of the answer (the call WAS applied). */
  afterAnswer(service: string, request: AwsHttpRequest): LostAnswer | undefined;
}

export type LostAnswer = 'server-error' | 'timeout';

export interface AwsHttpRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly path: string;
}

const INJECTOR = Symbol.for('cdc-cart.aws-call-fault-injector');

export function installAwsCallFaultInjector(injector: AwsCallFaultInjector | undefined): void {
  (globalThis as Record<symbol, unknown>)[INJECTOR] = injector;
}

function installedInjector(): AwsCallFaultInjector | undefined {
  return (globalThis as Record<symbol, AwsCallFaultInjector | undefined>)[INJECTOR];
}

export function awsCallFaultsInstalled(): boolean {
  return installedInjector() !== undefined;
}

/** `handler` as is, or wrapped by the installed injector (there is one only on the local stack under chaos). */
export function withAwsCallFaults(service: string, handler: NodeHttpHandler): NodeHttpHandler {
  const injector = installedInjector();
  if (!injector) return handler;
  const wrapped = {
    metadata: handler.metadata,
    async handle(request: Parameters<NodeHttpHandler['handle']>[0], options?: HttpHandlerOptions) {
      await injector.beforeSend(service, request);
      const answer = await handler.handle(request, options);
      const lost = injector.afterAnswer(service, request);
      if (!lost) return answer;
      // The service applied the call; its answer is discarded (the body drained, so the socket is reused).
      const body = (answer as { response?: { body?: { resume?: () => void } } }).response?.body;
      body?.resume?.();
      // Classified as the SDK classifies a real 500 or timeout: transient, so its retry strategy retries the call.
      throw lost === 'timeout'
        ? Object.assign(new Error(`chaos ambiguous-write: ${service} applied the request, then it timed out`), { name: 'TimeoutError' })
        : Object.assign(new Error(`chaos ambiguous-write: ${service} applied the request, then answered 500`), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
    },
    updateHttpClientConfig: handler.updateHttpClientConfig.bind(handler),
    httpHandlerConfigs: handler.httpHandlerConfigs.bind(handler),
    destroy: handler.destroy.bind(handler),
  };
  return wrapped as unknown as NodeHttpHandler;
}
