export * from './room';
export * from './errors';
export * from './constants';
export * from './validate';
