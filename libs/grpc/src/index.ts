export { toServiceError, REASON_KEY, FIELD_KEY } from './status';
export { unary, serverStream, startGrpcServer, type GrpcServer } from './server';
export { call, insecure, RETRYABLE } from './client';
