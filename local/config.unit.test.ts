import { POINTER_CACHE_MS } from '../application/generations';
import { ENV } from '../lambdas/environment';
import { handlerEnvironment, loadLocalConfig, LOCAL_INVOCATION_BUDGET_MS } from './config';

describe('the local stack\'s handler environment', () => {
  test('locally the default is seconds: the local invocation budget plus the pointer cache', () => {
    const local = Number(handlerEnvironment(loadLocalConfig({}))[ENV.retireAfterSecondsDefault]);
    expect(local).toBe(LOCAL_INVOCATION_BUDGET_MS / 1000 + POINTER_CACHE_MS / 1000);
    expect(local).toBeLessThan(60);
  });
});
