/**
 * The bearer token of this tab: kept in sessionStorage, which the browser drops with the tab
 * and never shares with other tabs or sends anywhere by itself.
 */
const KEY = 'ecs.token';

export function readToken(): string {
  return sessionStorage.getItem(KEY) ?? '';
}

export function saveToken(token: string): void {
  const trimmed = token.trim().replace(/^Bearer\s+/i, '');
  if (trimmed) sessionStorage.setItem(KEY, trimmed);
  else sessionStorage.removeItem(KEY);
}

/** The `Authorization` header value for the current token, or undefined without one. */
export function authorization(): string | undefined {
  const token = readToken();
  return token ? `Bearer ${token}` : undefined;
}
