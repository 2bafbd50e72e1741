export * from './topics';
export * from './status-catalog';
export * from './event-types';
export * from './webhook-payload';
export * from './cloudevents-kafka';
