export * from './bootstrap';
export * from './config/service-config';
export * from './service-core.module';
export * from './service-name';
export * from './create-service-app';
export * from './http';
export * from './transport/compacted-topic-follower';
export * from './migrate-command';
