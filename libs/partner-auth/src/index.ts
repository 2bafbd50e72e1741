export * from './api-key';
export * from './api-key-table';
export * from './key-table-catch-up';
export * from './token-bucket-limiter';
export * from './partner-auth.options';
export * from './api-key-directory';
export * from './partner-auth.guard';
export * from './partner-auth.module';
