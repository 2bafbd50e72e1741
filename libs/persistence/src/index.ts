export * from './service-data-source';
export * from './query-rows';
