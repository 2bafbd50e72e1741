export * from './purchase-commands';
export * from './purchase';
export * from './transitions';
export * from './errors';
export * from './decide';
export * from './status-event';
export * from './timeout-policy';
