export * from './topics';
export * from './status-catalog';
export * from './event-types';
export * from './webhook-payload';
export * from './cloudevents-kafka';
export * from './api-key-record';
export * from './endpoint-state';
export * from './endpoint-health';
