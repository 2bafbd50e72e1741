export * from './classify-address';
export * from './check-endpoint-url';
