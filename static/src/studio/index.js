// The studio's chunk (issue 16): loaded by the routes under #/studio in
// app.js with import(), so readers never download it.  It adds its UI
// strings and its endpoint declarations to the app's tables, links its
// stylesheet, and defines its views.
import './strings.js';
import './endpoints.js';
import './home.js';
import './textbook.js';
import './course.js';
import './group.js';

// studio.css is built beside app.css (build.mjs); same build id.
if (!document.querySelector('link[data-studio-css]')) {
  const app = document.querySelector('link[rel="stylesheet"][href^="app.css"]');
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = app ? app.getAttribute('href').replace(/^app\.css/, 'studio.css') : 'studio.css';
  link.dataset.studioCss = '';
  document.head.appendChild(link);
}
