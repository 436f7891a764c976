// main.js - the entry point: language, theme, session, live events,
// service worker, then the shell renders the route.
import { setLanguage, initialLanguage } from './i18n.js';
import { ready } from './session.js';
import { preferredTheme } from './app.js';
import { live } from './live.js';

document.documentElement.dataset.theme = preferredTheme();
setLanguage(initialLanguage(document.cookie, navigator.languages), { persist: false });

// Who is logged in: the shell shows the user as soon as this answers; views
// do not wait for it (anonymous reading works meanwhile).
ready();

document.body.replaceChildren(document.createElement('ob-app'));

// The live connection's state, on <html> (data-live, data-live-channels):
// for styling and for the end-to-end tests, which wait for it.
live.on((m) => {
  if (m.kind !== 'state') return;
  document.documentElement.dataset.live = m.state;
  document.documentElement.dataset.liveChannels = m.state === 'open' ? live.subscribed.join(' ') : '';
});

if ('serviceWorker' in navigator && !new URLSearchParams(location.search).has('nosw')) {
  navigator.serviceWorker.register('sw.js').catch(() => {});
}
