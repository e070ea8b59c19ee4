import { readToken, saveToken } from '../shared/token-store';

/**
 * The bar above the IDE: a password field for the bearer token, kept for this tab only
 * (sessionStorage), never in GraphiQL's persisted headers or tabs.
 */
export function mountTokenBar(parent: HTMLElement, onChange: () => void): void {
  const bar = document.createElement('form');
  bar.className = 'ecs-token-bar';
  const label = document.createElement('label');
  label.textContent = 'Bearer token ';
  const input = document.createElement('input');
  input.type = 'password';
  input.name = 'token';
  input.id = 'ecs-token';
  input.autocomplete = 'off';
  input.placeholder = 'paste an access token (development: npx ecs token --role auditor)';
  input.value = readToken();
  label.append(input);
  const apply = document.createElement('button');
  apply.type = 'submit';
  apply.textContent = 'Use token';
  const state = document.createElement('span');
  state.className = 'ecs-token-state';
  state.textContent = readToken() ? 'token set for this tab' : 'no token';
  bar.append(label, apply, state);
  bar.addEventListener('submit', (event) => {
    event.preventDefault();
    saveToken(input.value);
    state.textContent = readToken() ? 'token set for this tab' : 'no token';
    onChange();
  });
  parent.append(bar);
}
