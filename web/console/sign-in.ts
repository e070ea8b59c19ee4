import { readToken, saveToken } from '../shared/token-store';

/** The `tenant_id` claim of a JWT, read without verifying it (only to preselect a tenant; the server decides). */
export function tenantOfToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    return typeof claims.tenant_id === 'string' ? claims.tenant_id : undefined;
  } catch {
    return undefined;
  }
}

/** Sign-in with a bearer token, kept for this tab only (sessionStorage). */
export function mountSignIn(parent: HTMLElement, onSignIn: () => void): void {
  const form = document.createElement('form');
  form.className = 'sign-in';
  const input = document.createElement('input');
  input.type = 'password';
  input.id = 'console-token';
  input.autocomplete = 'off';
  input.placeholder = 'access token or API key bearer token';
  input.value = readToken();
  const button = document.createElement('button');
  button.type = 'submit';
  button.textContent = 'Sign in';
  const hint = document.createElement('small');
  hint.textContent = 'Development: npx ecs token --role auditor [--tenant <id>]. The token stays in this tab.';
  form.append('Token ', input, ' ', button, ' ', hint);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    saveToken(input.value);
    onSignIn();
  });
  parent.append(form);
}
