import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { portInForce, portsInForce } from './ports';

describe('the ports the help texts print', () => {
  test('the variable when set, else the default', () => {
    expect(portInForce('api', {})).toBe('3000');
    expect(portInForce('api', { API_PORT: '3100' })).toBe('3100');
    expect(portInForce('stepfunctions', { STEPFUNCTIONS_PORT: ' ' })).toBe('8083');
    expect(portsInForce({ API_PORT: '3100' })).toMatch(/^API_PORT=3100, DYNAMODB_PORT=8000 \(default\), .*STEPFUNCTIONS_PORT=8083 \(default\)$/);
  });

  const help = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'cdc-cart.ts'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, API_PORT: '3100', STEPFUNCTIONS_PORT: '9183' },
      timeout: 60_000,
    });

  test('cdc-cart --help and cdc-cart replay --help print the ports in force, not the defaults', () => {
    const top = help('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toContain('http://127.0.0.1:3100/console');
    expect(top.stdout).toContain('API_PORT=3100');
    expect(top.stdout).not.toContain('127.0.0.1:3000');
    const replay = help('replay', '--help');
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain('127.0.0.1:9183');
    expect(replay.stdout).not.toContain('8083');
  }, 60_000);
});
