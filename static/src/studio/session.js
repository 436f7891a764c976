// session.js (studio) - the user's grants (perms.js), read once per
// session and again when they may have changed (a new course or group
// makes its creator the owner; the user changed).
import { get } from '../api.js';
import { onSessionChange } from '../session.js';
import { Grants, groupScope, courseScope, COURSE, GROUP } from './perms.js';

let pending = null;
onSessionChange(() => { pending = null; });

export function loadGrants({ fresh = false } = {}) {
  if (fresh || !pending) {
    pending = get('studio.me', null, { expand: ['permissions'] }).then((me) => new Grants(me), (e) => {
      pending = null;
      throw e;
    });
  }
  return pending;
}

export { groupScope, courseScope, COURSE, GROUP };
