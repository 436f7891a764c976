// The account chunk: loaded with the first #/account/... route.
import './auth-screens.js';
import './settings.js';
