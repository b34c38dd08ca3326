export { createTokenClient, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_LIFETIME_MS, REGION_BASE_URLS } from './client/client.js';
export type {
  AccountChannel,
  CallOptions,
  LiveTokenClient,
  RefreshAccessTokenInput,
  Region,
  RequestContentType,
  TokenClient,
  TokenClientOptions,
} from './client/client.js';
export type { RetryPolicy } from './client/retry.js';
export { REQUEST_ID_HEADERS } from './client/request-id.js';
export type { RefreshTokenData } from './client/envelope.js';
export type { RefreshTokenBody, RefreshTokenInput } from './client/refresh-input.js';
export { TokenApiError } from './errors/token-api-error.js';
export { ApiError } from './errors/api-error.js';
export { InvalidInputError } from './errors/invalid-input-error.js';
export { InvalidResponseError, type InvalidResponseReason } from './errors/invalid-response-error.js';
export { NetworkError } from './errors/network-error.js';
export { TimeoutError } from './errors/timeout-error.js';
export type { components, operations, paths } from '../generated/openapi.js';
export {
  TokenManager,
  DEFAULT_REFRESH_WINDOW_MS,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_LOCK_TTL_MS,
} from './lifecycle/token-manager.js';
export type {
  CurrentToken,
  RefreshFunction,
  RefreshResult,
  TokenChange,
  TokenErrorContext,
  TokenListener,
  TokenManagerOptions,
} from './lifecycle/token-manager.js';
export { clientRefresh, type ClientRefreshOptions } from './lifecycle/client-refresh.js';
export { MemoryTokenStore } from './lifecycle/token-store.js';
export type { SaveIfResult, StoredToken, TokenStore, TokenStoreLock } from './lifecycle/token-store.js';
export { TokenUnavailableError, type TokenUnavailableReason } from './errors/token-unavailable-error.js';
export { InvalidRefreshResultError, type InvalidRefreshResultReason } from './errors/invalid-refresh-result-error.js';
export { TokenStoreError, type TokenStoreErrorReason } from './errors/token-store-error.js';
