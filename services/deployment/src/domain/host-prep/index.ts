export * from './spec';
export * from './plan';
