import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger, metrics and tracer per process, configured by the POWERTOOLS_* variables that CDK sets per
 * function (service name, namespace) and that the local stack sets for all of them.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();
