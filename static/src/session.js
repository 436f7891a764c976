// session.js - who is logged in (GET /api/auth/current_user/), shared by
// every view.  Changes are announced to the listeners (the shell, the live
// connection, views that show personal data).
import { get, auth } from './api.js';

const listeners = new Set();
/** @type {{id:number, username:string, full_name:string, first_name:string, last_name:string, email?:string, is_staff:boolean, is_superuser:boolean} | null} */
let user = null;
let loaded = false;

let first = null;

/** Resolves once the first answer about the session is in. */
export function ready() {
  return (first ||= refreshSession());
}

export function currentUser() {
  return user;
}

export function isLoaded() {
  return loaded;
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-reads the current user; tells the listeners when it changed. */
export async function refreshSession() {
  let next = null;
  try {
    const u = await get('currentUser');
    next = u && u.is_authenticated ? u : null;
  } catch {
    next = user;   // offline: keep what we knew
  }
  const changed = !loaded || (next?.id ?? null) !== (user?.id ?? null) ||
    JSON.stringify(next) !== JSON.stringify(user);
  user = next;
  loaded = true;
  if (changed) for (const fn of listeners) fn(user);
  return user;
}

/** Logs out (DELETE /auth/session), forgets cached personal data. */
export async function logout() {
  await auth('logout');
  await forgetCachedData();
  return refreshSession();
}

/** Empties the service worker's API cache (it may hold what this user
 * could read). */
export async function forgetCachedData() {
  try {
    if (globalThis.caches) await caches.delete('ob-api');
  } catch {
    /* no Cache API (tests) */
  }
}
