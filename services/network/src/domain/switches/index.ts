export * from './types';
export * from './natural';
export * from './validate';
export * from './vlans';
export * from './plan';
export * from './render';
export * from './cabling';
