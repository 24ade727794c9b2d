import { Logger } from '@aws-lambda-powertools/logger';

/** The product's one structured logger (level from POWERTOOLS_LOG_LEVEL). */
export const logger = new Logger({ serviceName: 'gong-status' });
