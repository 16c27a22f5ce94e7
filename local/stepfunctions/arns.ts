/** ARNs of the local endpoint: the account and region every local emulator uses. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export const stateMachineArn = (name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
export const executionArn = (machine: string, name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machine}:${name}`;
export const mapRunArn = (machine: string, execution: string, id: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:mapRun:${machine}/${execution}:${id}`;
export const childExecutionArn = (machine: string, execution: string, mapRunId: string, child: string) =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:express:${machine}/${execution}:${mapRunId}:${child}`;
export const localFunctionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;

/** The function name of a Lambda ARN (or of a bare name, as lambda:invoke's FunctionName may be). */
export function functionNameOf(arnOrName: string): string {
  const match = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(:[^:]+)?$/.exec(arnOrName);
  return match ? match[1]! : arnOrName;
}
