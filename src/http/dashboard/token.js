// The API token: kept in sessionStorage, sent as a Bearer header, asked for by the token form after a 401/403.

const TOKEN_KEY = 'market-runtime-token';

export function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; /* storage disabled */ }
}

export function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Shows #token-form once; `onSaved` runs after the token is stored. `refused` (a token was sent and refused)
 * says so in the form, whose field starts empty.
 */
export function showTokenForm(onSaved, refused = '') {
  const form = document.getElementById('token-form');
  if (!form || !form.hidden) return;
  form.hidden = false;
  const input = form.querySelector('input');
  input.value = '';
  input.placeholder = refused;
  input.title = refused;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch { /* storage disabled */ }
    form.hidden = true;
    onSaved();
  }, { once: true });
}
