// main.js - the entry point: language, theme, session, live events,
// service worker, then the shell renders the route.
import { setLanguage, initialLanguage } from './i18n.js';
import { ready } from './session.js';
import { preferredTheme } from './app.js';

document.documentElement.dataset.theme = preferredTheme();
setLanguage(initialLanguage(document.cookie, navigator.languages), { persist: false });

// Who is logged in: the shell shows the user as soon as this answers; views
// do not wait for it (anonymous reading works meanwhile).
ready();

document.body.replaceChildren(document.createElement('ob-app'));

if ('serviceWorker' in navigator && !new URLSearchParams(location.search).has('nosw')) {
  navigator.serviceWorker.register('sw.js').catch(() => {});
}
