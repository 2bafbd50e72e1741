export * from './endpoint';
export * from './endpoint-rules';
export * from './decide-endpoint';
export * from './partner';
