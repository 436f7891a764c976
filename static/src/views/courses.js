// <ob-courses> (#/courses): public courses and mine.
// <ob-course> (#/courses/<id>): a course with its materials as a reading
// path, self-enrolment (with passphrase where needed), access requests and
// their state, leaving; live on course:<id> and the user's own channel.
import { View, html, nothing, t, announce, setTitle, focusHeading, loading, loadError, formErrors } from '../ui.js';
import { get, list, listAll, action, create, destroy, ApiError } from '../api.js';
import { SCOPE_COURSE } from '../endpoints.js';
import { currentUser, onSessionChange, ready } from '../session.js';
import { buildTree, pageRange } from '../textbook-tree.js';
import { live } from '../live.js';
import { href } from '../router.js';
import { formatDate } from '../i18n.js';

function courseCard(c) {
  return html`<li class="card"><h3><a href=${href(`/courses/${c.id}`)}>${c.name}</a></h3>
    ${c.description ? html`<p>${c.description}</p>` : nothing}</li>`;
}

class ObCourses extends View {
  static properties = { all: { state: true }, mine: { state: true }, error: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    this._off = onSessionChange(() => this.load());
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._off();
  }

  languageChanged() {
    this.load();
  }

  async load() {
    this.error = null;
    await ready();
    const me = currentUser();
    try {
      const all = await listAll('courses', { is_template: false });
      let mine = null;
      if (me) {
        // Courses I own, and those where I hold a role I can see.
        const [owned, assignments] = await Promise.all([
          listAll('courses', { owner: me.username }),
          listAll('roleAssignments', { user: me.username, scope_type: SCOPE_COURSE }).catch(() => []),
        ]);
        const ids = new Set([...owned.map((c) => c.id), ...assignments.filter((a) => a.is_effective).map((a) => a.scope_uuid)]);
        mine = all.filter((c) => ids.has(c.id));
        for (const c of owned) if (!mine.some((m) => m.id === c.id)) mine.push(c);
      }
      this.all = all;
      this.mine = mine;
    } catch (e) {
      this.error = e;
    }
    setTitle(t('courses.title'));
    await this.updateComplete;
    focusHeading(this);
  }

  render() {
    if (this.error) return html`<h1>${t('courses.title')}</h1>${loadError(this.error)}`;
    if (!this.all) return loading();
    return html`<h1>${t('courses.title')}</h1>
      ${this.mine ? html`<section aria-labelledby="c-mine"><h2 id="c-mine">${t('courses.mine')}</h2>
        ${this.mine.length ? html`<ul class="cards">${this.mine.map(courseCard)}</ul>` : html`<p>${t('courses.noneMine')}</p>`}
      </section>` : nothing}
      <section aria-labelledby="c-all"><h2 id="c-all">${t('courses.public')}</h2>
        ${this.all.length ? html`<ul class="cards">${this.all.map(courseCard)}</ul>` : html`<p>${t('courses.none')}</p>`}
      </section>`;
  }
}

class ObCourse extends View {
  static properties = {
    params: { attribute: false }, course: { state: true }, materials: { state: true },
    methods: { state: true }, assignments: { state: true }, requests: { state: true },
    error: { state: true }, notices: { state: true }, errors: { state: true }, busy: { state: true },
  };

  constructor() {
    super();
    this.params = {};
    this.errors = {};
    this.notices = [];
  }

  /** Shows (and announces) a notice; the last three stay. */
  say(kind, text) {
    this.notices = [...this.notices, { kind, text }].slice(-3);
    announce(text);
  }

  connectedCallback() {
    super.connectedCallback();
    this._offLive = live.on((m) => this.onLive(m));
    this._offSession = onSessionChange(() => this.load());
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._offLive();
    this._offSession();
    live.want('course', []);
  }

  willUpdate(changed) {
    if (changed.has('params')) {
      this.enrolledRoles = new Set();
      this.course = null;
      this.notices = [];
      this.load(true);
    }
  }

  languageChanged() {
    this.load();
  }

  async load(focus = false) {
    const id = this.params.id;
    await ready();
    const me = currentUser();
    live.want('course', [`course:${id}`]);
    this.error = null;
    try {
      const [course, materials] = await Promise.all([
        get('courses', id),
        listAll('courseMaterials', { course: id }, { expand: ['textbook', 'page_ranges'] }),
      ]);
      // Page names for the ranges: one list per textbook.
      const trees = new Map();
      await Promise.all(materials.map(async (m) => {
        const tb = typeof m.textbook === 'object' && m.textbook ? m.textbook.id : m.textbook;
        if (!trees.has(tb)) {
          trees.set(tb, buildTree(await listAll('textbookPages', { textbook: tb },
            { fields: ['id', 'parent', 'position', 'name'] }).catch(() => [])));
        }
      }));
      let methods = null, assignments = [], requests = [];
      if (me) {
        const scope = { scope_type: SCOPE_COURSE, scope_uuid: id };
        [methods, assignments, requests] = await Promise.all([
          listAll('enrollmentMethods', scope).catch(() => []),
          listAll('roleAssignments', { ...scope, user: me.username }).catch(() => []),
          listAll('accessRequests', { ...scope, user: me.username }).catch(() => []),
        ]);
      }
      if (this.params.id !== id) return;
      materials.sort((a, b) => a.position - b.position);
      Object.assign(this, { course, materials, trees, methods, assignments, requests });
      setTitle(course.name);
      if (focus) {
        await this.updateComplete;
        focusHeading(this);
      }
    } catch (e) {
      if (this.params.id === id) this.error = e;
    }
  }

  onLive(m) {
    const id = this.params.id;
    if (!id) return;
    if (m.kind === 'resync') {
      this.load();
      return;
    }
    if (m.kind !== 'event') return;
    const pl = m.payload;
    if (m.channel === `course:${id}`) {
      if (m.type === 'course.updated' && pl.op === 'deleted') {
        this.say('error', t('course.deleted'));
        return;
      }
      this.load();
      return;
    }
    if (m.channel.startsWith('user:') && pl.scope_uuid === id) {
      if (m.type === 'enrollment.created') {
        // (Our own enrolment was already announced with its answer.)
        if (!this.enrolledRoles.has(pl.role)) this.say('success', t('course.enrolledLive', { role: pl.role }));
        this.enrolledRoles.add(pl.role);
      } else if (m.type === 'access_request.decided') {
        if (pl.decision === 'accepted') this.say('success', t('course.requestAccepted'));
        else this.say('info', t('course.requestDenied'));
      } else if (m.type === 'enrollment.removed') {
        this.say('info', t('course.enrollmentRemoved'));
        this.enrolledRoles.delete(pl.role);
      }
      this.load();
    }
  }

  async enrol(e, method) {
    e.preventDefault();
    const form = e.target;
    const body = method.has_passphrase ? { passphrase: form.elements.passphrase.value } : {};
    this.busy = true;
    this.errors = {};
    try {
      const a = await action('enroll', { id: method.id }, body);
      if (!this.enrolledRoles.has(a.role)) this.say('success', t('course.enrolled', { role: a.role }));
      // Students may not read their own assignments (that takes
      // view_roleassignment in the course): remember this one here.
      this.enrolledRoles.add(a.role);
      this.assignments = [...this.assignments.filter((x) => x.id !== a.id), a];
      await this.load();   // the role may open the course's materials
    } catch (err) {
      this.errors = { [method.id]: err instanceof ApiError ? [err.detail || Object.values(err.fields).flat().join(' ') || t('error.generic')] : [t('error.generic')] };
    } finally {
      this.busy = false;
    }
  }

  async requestAccess(role) {
    const me = currentUser();
    this.busy = true;
    this.errors = {};
    try {
      await create('accessRequests', { scope_type: SCOPE_COURSE, scope_uuid: this.params.id, user: me.username, role });
      this.say('success', t('course.requested'));
      await this.load();
    } catch (err) {
      const msgs = err instanceof ApiError ? [err.detail, ...Object.values(err.fields).flat()].filter(Boolean) : [];
      this.errors = { request: msgs.length ? msgs : [t('error.generic')] };
    } finally {
      this.busy = false;
    }
  }

  async withdraw(req) {
    try {
      await destroy('accessRequests', req.id);
      await this.load();
    } catch (err) {
      this.errors = { request: [err.detail || t('error.generic')] };
    }
  }

  async leave(a) {
    if (!confirm(t('course.leaveConfirm'))) return;
    try {
      await destroy('roleAssignments', a.id);
      this.enrolledRoles.delete(a.role);
      this.say('info', t('course.left'));
      await this.load();
    } catch (err) {
      this.errors = { leave: [err.status === 403 || err.status === 404 ? t('course.leaveRefused') : (err.detail || t('error.generic'))] };
    }
  }

  renderMaterial(m) {
    const tb = typeof m.textbook === 'object' && m.textbook ? m.textbook : { id: m.textbook, name: m.textbook };
    const tree = this.trees.get(tb.id);
    const ranges = (Array.isArray(m.page_ranges) ? m.page_ranges : [])
      .filter((r) => r && typeof r === 'object').sort((a, b) => a.position - b.position);
    return html`<li class="material">
      <h3><a href=${href(`/textbooks/${tb.id}`)}>${tb.name}</a></h3>
      ${ranges.map((r) => {
        const pages = tree ? pageRange(tree, r.start_page, r.end_page) : [];
        return pages.length ? html`<ol class="path">${pages.map((p) => html`<li>
          <a href=${href(`/textbooks/${tb.id}/pages/${p.id}`)}>${p.name}</a></li>`)}</ol>` : nothing;
      })}
      ${!ranges.length ? html`<p>${t('course.wholeBook')}</p>` : nothing}
    </li>`;
  }

  renderEnrolment() {
    const me = currentUser();
    if (!me) {
      return html`<p><a href=${href(`/account/login?next=${encodeURIComponent(`/courses/${this.params.id}`)}`)}>${t('course.loginToEnrol')}</a></p>`;
    }
    const active = this.assignments.filter((a) => a.is_effective !== false);
    const asked = new Set([...this.requests.filter((r) => r.decision !== 'denied').map((r) => r.role),
      ...active.map((a) => a.role), ...this.enrolledRoles]);
    const roles = [...new Set((this.methods || []).map((m) => m.role))];
    const enrolledIn = new Set([...active.map((a) => a.role), ...this.enrolledRoles]);
    const usable = (this.methods || []).filter((m) => m.is_active && !enrolledIn.has(m.role) &&
      (!m.end_date || new Date(m.end_date) > new Date()));
    return html`
      ${active.length ? html`<div class="enrolled">${active.map((a) => html`<p>${t('course.youAre', { role: a.role })}
        <button type="button" class="secondary" @click=${() => this.leave(a)}>${t('course.leave')}</button></p>`)}
        ${formErrors(this.errors.leave)}</div>` : nothing}
      ${[...this.enrolledRoles].filter((r) => !active.some((a) => a.role === r)).map((r) => html`<p class="enrolled">${t('course.youAre', { role: r })}</p>`)}
      ${usable.length ? html`<ul class="methods">${usable.map((m) => html`<li class="card">
        <h3>${m.name}</h3>${m.description ? html`<p>${m.description}</p>` : nothing}
        <form @submit=${(e) => this.enrol(e, m)}>
          ${m.has_passphrase ? html`<div class="field"><label for="pp-${m.id}">${t('course.passphrase')}</label>
            <input id="pp-${m.id}" name="passphrase" type="password" autocomplete="off" required
              aria-invalid=${this.errors[m.id] ? 'true' : 'false'}></div>` : nothing}
          ${formErrors(this.errors[m.id])}
          <button type="submit" ?disabled=${this.busy}>${t('course.enrol', { role: m.role })}</button>
        </form></li>`)}</ul>` : enrolledIn.size ? nothing : html`<p>${t('course.noMethods')}</p>`}
      ${this.requests.length || roles.some((r) => !asked.has(r)) ? html`<h3>${t('course.accessRequests')}</h3>` : nothing}
      ${this.requests.length ? html`<ul class="requests">${this.requests.map((r) => html`<li>
        ${t('course.requestState', { role: r.role, state: t(`decision.${r.decision}`), date: formatDate(r.created_at) })}
        ${r.decision === 'pending' ? html`<button type="button" class="secondary" @click=${() => this.withdraw(r)}>${t('course.withdraw')}</button>` : nothing}
      </li>`)}</ul>` : nothing}
      ${roles.filter((role) => !asked.has(role)).map((role) => html`<button type="button" class="secondary"
        ?disabled=${this.busy} @click=${() => this.requestAccess(role)}>${t('course.requestAccess', { role })}</button> `)}
      ${formErrors(this.errors.request)}`;
  }

  render() {
    if (this.error) return loadError(this.error);
    if (!this.course) return loading();
    const c = this.course;
    return html`<nav aria-label=${t('nav.breadcrumbs')} class="breadcrumbs"><ol>
        <li><a href="#/courses">${t('nav.courses')}</a></li><li><span aria-current="page">${c.name}</span></li></ol></nav>
      <h1>${c.name}</h1>
      ${c.description ? html`<p class="lead">${c.description}</p>` : nothing}
      ${this.notices.map((n) => html`<div class="notice ${n.kind}">${n.text}</div>`)}
      <section aria-labelledby="c-materials"><h2 id="c-materials">${t('course.materials')}</h2>
        ${this.materials.length ? html`<ol class="materials">${this.materials.map((m) => this.renderMaterial(m))}</ol>`
          : html`<p>${t('course.noMaterials')}</p>`}
      </section>
      <section aria-labelledby="c-enrol"><h2 id="c-enrol">${t('course.enrolment')}</h2>${this.renderEnrolment()}</section>`;
  }
}

customElements.define('ob-courses', ObCourses);
customElements.define('ob-course', ObCourse);
