export * from './trace-context';
export * from './tracing';
export * from './logging';
export * from './metrics';
