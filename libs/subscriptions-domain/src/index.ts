export * from './endpoint';
export * from './endpoint-rules';
export * from './decide-endpoint';
export * from './partner';
export * from './endpoint-auth';
