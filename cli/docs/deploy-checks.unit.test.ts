import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocksUnder, parseMarkdown } from './markdown';

const DOCS = join(__dirname, '..', '..', 'docs');
const read = (page: string) => parseMarkdown(readFileSync(join(DOCS, page), 'utf8'));
const commandsOf = (content: string) => content.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean);

describe('docs: the checks after a deploy', () => {
  it('"After every deploy" starts with cdc-cart verify --aws --stage <stage>, then the alarm check', () => {
    const [first] = fencedBlocksUnder(read('deploying.md'), 'After every deploy: two checks');
    expect(commandsOf(first!.content).slice(0, 2)).toEqual(['npx cdc-cart verify --aws --stage <stage>', 'npx cdc-cart verify --aws --stage <stage> --alarm-check']);
  });

  it('the CLI page lists the IAM actions the alarm check calls', () => {
    const source = readFileSync(join(__dirname, '..', '..', 'adapters', 'pipeline-probe', 'alarm-delivery-check.ts'), 'utf8');
    const cli = readFileSync(join(DOCS, 'cli.md'), 'utf8');
    const section = cli.slice(cli.indexOf('### Alarm check'));
    // Each SDK command the check sends is one IAM action of its service.
    const actions = [...source.matchAll(/new (\w+)Command\(/g)].map(([, name]) => name!);
    const service: Record<string, string> = { DescribeAlarms: 'cloudwatch', SetAlarmState: 'cloudwatch', DescribeAlarmHistory: 'cloudwatch', Subscribe: 'sns', Unsubscribe: 'sns', ConfirmSubscription: 'sns' };
    for (const action of new Set(actions)) {
      const name = action === 'DeleteMessageBatch' ? 'DeleteMessage' : action;
      expect(section).toContain(`${service[action] ?? 'sqs'}:${name}`);
    }
  });
});
