export * from './env';
export * from './eventually';
export * from './test-database';
export * from './unique';
export * from './test-service';
export * from './service-process';
export * from './webhook-schemas';
export * from './activecampaign-fake';
