import { LAMBDA_BUNDLING } from '../infra/lambda-bundling';
import { COMPONENTS } from '../local/components';
import { readHeartbeat } from '../local/process/heartbeat';
import { testStack } from './support/local-stack';

/**
 * Lambda runs the bundles on the Node.js major infra/ targets; the local stack's components, the tests and the
 * processes they start run on that same major (scripts/ensure-setup.cjs brings it where the machine's is older).
 */
const lambdaMajor = Number(/^node(\d+)$/.exec(LAMBDA_BUNDLING.target)![1]);

describe('the Node.js the system runs on locally', () => {
  it('is the major Lambda runs, for the tests and for every component of the stack', () => {
    expect(lambdaMajor).toBe(22);
    expect(Number(process.versions.node.split('.')[0])).toBe(lambdaMajor);
    const { dataDir } = testStack();
    const versions = Object.fromEntries(Object.keys(COMPONENTS).map((name) => [name, readHeartbeat(dataDir, name)?.node?.split('.')[0]]));
    expect(versions).toEqual(Object.fromEntries(Object.keys(COMPONENTS).map((name) => [name, String(lambdaMajor)])));
  });
});
