export * from './bearer-token.guard';
export * from './database-unavailable';
export * from './error-statuses';
export * from './idempotency';
export * from './openapi';
export * from './problem';
export * from './problem-details.filter';
export * from './zod-body';
