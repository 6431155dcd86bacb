export { toServiceError, REASON_KEY, FIELD_KEY } from './status';
export { unary, serverStream, startGrpcServer, type GrpcServer, type ServerSecurity, type TlsFiles } from './server';
export { authenticate, authorize, hasRole, inScope, requireRole, requireSite, requiredRole, sha256Hex, TokenStore, ROLES, type Principal, type Role, type TokenEntry } from './auth';
export { call, insecure, clientCredentials, withToken, RETRYABLE } from './client';
