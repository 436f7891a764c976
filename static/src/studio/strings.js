// strings.js (studio) - the studio's UI strings (i18n/studio.<lang>.js)
// join the app's translation tables when the studio chunk loads; the
// reader's bundle does not carry them.
import { TABLES } from '../i18n.js';
import en from '../i18n/studio.en.js';
import de from '../i18n/studio.de.js';

for (const [lang, table] of Object.entries({ en, de })) Object.assign(TABLES[lang] ||= {}, table);

export const STUDIO_TABLES = { en, de };
