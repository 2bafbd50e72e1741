export * from './errors';
export * from './secret';
export * from './sign';
export * from './verify';
