import { PORT_VARIABLES, type LocalPorts } from '../local/config';

/**
 * The port of a local component as the commands will use it: its variable when set (as for npm start), else the
 * default. Help texts print these, so a stack on other ports reads its own ports there.
 */
export function portInForce(component: keyof LocalPorts, env: NodeJS.ProcessEnv = process.env): string {
  const { variable, default: fallback } = PORT_VARIABLES[component];
  const value = env[variable]?.trim();
  return value ? value : String(fallback);
}

/** `API_PORT=3100, DYNAMODB_PORT=8000 (default), ...` */
export function portsInForce(env: NodeJS.ProcessEnv = process.env): string {
  return (Object.keys(PORT_VARIABLES) as (keyof LocalPorts)[])
    .map((component) => `${PORT_VARIABLES[component].variable}=${portInForce(component, env)}${env[PORT_VARIABLES[component].variable]?.trim() ? '' : ' (default)'}`)
    .join(', ');
}
