// <ob-admin-libraries> (#/admin/libraries): HTML component libraries
// (libraries.md).  Upload archives with a progress bar each, with `force`
// (install despite dependency problems) and `replace` (what to do when the
// version exists) as explicit choices; every archive's answer (the
// installed version, warnings, or the server's refusal) is shown next to
// it.  The installed libraries with their versions in semver order,
// components and dependencies; publish/unpublish; uninstall a version or
// the library, with the dependants' warning (409) and an explicit
// "uninstall anyway" (force).  Hidden on a server without the library API.
import { AdminSection, html, nothing, t, checkbox, confirmed, fileField } from './common.js';
import { listAll, patch, request, ApiError } from '../api.js';
import { sortBySemver } from './semver.js';
import { formatBytes } from './validate.js';
import { upload, uploadErrors, installOutcome } from './upload.js';
import { progressBar } from './progress.js';
import { installRights, INSTALL_PATH } from './access.js';
import { safeUrl } from '../render.js';

const LIBRARIES = '/api/core/html_library/libraries/';
const VERSIONS = '/api/core/html_library/versions/';

class ObAdminLibraries extends AdminSection {
  static section = 'libraries';

  static properties = {
    ...AdminSection.properties, libs: { state: true }, uploads: { state: true }, blocked: { state: true },
    replace: { state: true }, force: { state: true },
  };

  constructor() {
    super();
    this.uploads = [];
    this.blocked = {};
    this.force = false;
    this.replace = null;
  }

  async load() {
    await this.fetching(async () => {
      const libs = await listAll('htmlLibraries', {}, { expand: ['versions', 'components'] });
      this.libs = libs.map((l) => ({ ...l, versions: sortBySemver((l.versions || []).filter((v) => v && typeof v === 'object')) }));
    });
  }

  // ---- upload

  async install(e) {
    e.preventDefault();
    const form = e.target;
    const files = [...form.elements.archives.files];
    if (!files.length) {
      this.errors = { ...this.errors, upload: { archives: [t('admin.libs.chooseArchive')] } };
      return;
    }
    this.errors = { ...this.errors, upload: {} };
    const rights = installRights(this.user, this.schema);
    const replace = rights.replace && this.replace !== 'refuse';
    const force = this.force;
    const entries = files.map((f) => ({ name: f.name, size: f.size, loaded: 0, total: f.size, state: 'waiting' }));
    this.uploads = [...entries, ...this.uploads].slice(0, 20);
    this.busy = true;
    // One after the other: each install takes the server's advisory lock,
    // and an archive may depend on the one before it.
    for (let i = 0; i < files.length; i++) {
      const entry = entries[i];
      entry.state = 'uploading';
      this.uploads = [...this.uploads];
      const res = await upload('POST', INSTALL_PATH, { file: files[i], force: String(force), replace: String(replace) }, {
        query: { _expand: 'parent' },
        onProgress: (loaded, total) => {
          entry.loaded = loaded;
          entry.total = total || entry.size;
          this.uploads = [...this.uploads];
        },
      });
      Object.assign(entry, installOutcome(res));
      entry.state = entry.ok ? 'done' : 'failed';
      if (!entry.ok) {
        entry.errors = uploadErrors(res, (s) => (s === 413 ? t('admin.libs.tooLarge') : s === 0 ? t('error.offline') : s === 403 ? t('error.forbidden') : t('error.generic')));
      }
      this.uploads = [...this.uploads];
    }
    this.busy = false;
    form.elements.archives.value = '';
    const ok = entries.filter((x) => x.ok).length;
    if (ok) await this.load();
    this.say(t('admin.libs.uploadedSummary', { ok, failed: entries.length - ok }), ok === entries.length ? 'success' : 'error');
  }

  uploadForm() {
    const rights = installRights(this.user, this.schema);
    if (!rights.install) return nothing;
    const replace = rights.replace ? (this.replace || 'replace') : 'refuse';
    return html`<section aria-labelledby="lib-up"><h2 id="lib-up">${t('admin.libs.upload')}</h2>
      <form novalidate @submit=${(e) => this.install(e)}>
        ${fileField({ id: 'lib-files', name: 'archives', label: t('admin.libs.archives'), accept: '.zip,application/zip', multiple: true,
          hint: t('admin.libs.archivesHint'), errors: this.err('archives', 'upload') })}
        <fieldset><legend>${t('admin.libs.existing')}</legend>
          <div class="check"><input type="radio" id="lib-replace" name="replace" value="replace" .checked=${replace === 'replace'}
            ?disabled=${!rights.replace} @change=${() => { this.replace = 'replace'; }}>
            <label for="lib-replace">${t('admin.libs.replace')}</label></div>
          <div class="check"><input type="radio" id="lib-refuse" name="replace" value="refuse" .checked=${replace === 'refuse'}
            @change=${() => { this.replace = 'refuse'; }}>
            <label for="lib-refuse">${t('admin.libs.refuse')}</label></div>
          ${rights.replace ? nothing : html`<p class="hint">${t('admin.libs.noReplaceRight')}</p>`}
        </fieldset>
        ${checkbox({ id: 'lib-force', name: 'force', label: t('admin.libs.force'), checked: this.force, hint: t('admin.libs.forceHint'),
          onChange: (e) => { this.force = e.target.checked; } })}
        <button type="submit" ?disabled=${this.busy}>${t('admin.libs.install')}</button>
      </form>
      ${this.uploads.length ? html`<h3>${t('admin.libs.results')}</h3><ul class="uploads">${this.uploads.map((u) => this.uploadEntry(u))}</ul>` : nothing}
    </section>`;
  }

  uploadEntry(u) {
    const errs = u.errors ? Object.entries(u.errors).flatMap(([, v]) => v) : [];
    return html`<li class="upload ${u.state}">
      <p><strong>${u.name}</strong> (${formatBytes(u.size)})</p>
      ${u.state === 'uploading' ? progressBar(u.loaded, u.total, t('admin.libs.uploading', { name: u.name })) : nothing}
      ${u.state === 'uploading' && u.total && u.loaded >= u.total ? html`<p>${t('admin.libs.processing')}</p>` : nothing}
      ${u.state === 'waiting' ? html`<p>${t('admin.libs.waiting')}</p>` : nothing}
      ${u.ok ? html`<p class="ok">${u.replaced ? t('admin.libs.replaced', { fqn: u.fqn, version: u.version }) : t('admin.libs.installed', { fqn: u.fqn, version: u.version })}</p>
        ${u.warnings.length ? html`<div class="notice info"><p>${t('admin.libs.warnings')}</p><ul>${u.warnings.map((w) => html`<li>${w}</li>`)}</ul></div>` : nothing}` : nothing}
      ${u.state === 'failed' ? html`<div class="form-errors" role="alert"><p>${t('admin.libs.refused')}</p><ul>${errs.map((m) => html`<li>${m}</li>`)}</ul></div>` : nothing}
    </li>`;
  }

  // ---- publish, uninstall

  async setPublished(lib, published) {
    const r = await this.run(() => patch('htmlLibraries', lib.id, { published }), `lib-${lib.id}`);
    if (r) {
      await this.load();
      this.say(published ? t('admin.libs.publishedNow', { fqn: lib.fqn }) : t('admin.libs.unpublishedNow', { fqn: lib.fqn }));
    }
  }

  /** DELETE a version or a library; a 409 (other libraries depend on it)
   * is kept so the screen can offer to uninstall anyway. */
  async uninstall(kind, lib, version, force = false) {
    const what = version ? `${lib.fqn} ${version.version}` : lib.fqn;
    const key = version ? `v-${version.id}` : `lib-${lib.id}`;
    const ask = force ? t('admin.libs.forceConfirm', { what }) : version ? t('admin.libs.uninstallVersionConfirm', { what }) : t('admin.libs.uninstallConfirm', { what, n: lib.versions.length });
    if (!confirmed(ask)) return;
    const path = (version ? VERSIONS + encodeURIComponent(version.id) : LIBRARIES + encodeURIComponent(lib.id)) + '/';
    this.busy = true;
    try {
      await request('DELETE', path, force ? { query: { force: 'true' } } : {});
      this.blocked = { ...this.blocked, [key]: null };
      await this.load();
      this.say(t('admin.libs.uninstalled', { what }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        this.blocked = { ...this.blocked, [key]: { detail: e.detail, kind, lib, version } };
      } else {
        this.errors = { ...this.errors, [key]: { '': [e instanceof ApiError && e.detail ? e.detail : t('error.generic')] } };
      }
    } finally {
      this.busy = false;
    }
  }

  blockedBox(key) {
    const b = this.blocked[key];
    if (!b) return nothing;
    return html`<div class="notice error" role="alert"><p>${b.detail}</p>
      <p>${t('admin.libs.dependantsHint')}</p>
      <button type="button" class="danger" @click=${() => this.uninstall(b.kind, b.lib, b.version, true)}>${t('admin.libs.uninstallAnyway')}</button>
      <button type="button" class="secondary" @click=${() => { this.blocked = { ...this.blocked, [key]: null }; }}>${t('common.cancel')}</button></div>`;
  }

  library(lib) {
    const libRights = this.rights(LIBRARIES);
    const verRights = this.rights(VERSIONS);
    const components = (lib.components || []).filter((c) => c && typeof c === 'object').map((c) => c.tag_name).sort();
    const links = [['website', lib.website], ['coderepo', lib.coderepo], ['bugtracker', lib.bugtracker]].filter(([, u]) => u && safeUrl(u));
    return html`<article class="library card" aria-labelledby=${`lib-${lib.id}`}>
      <h3 id=${`lib-${lib.id}`}><code>${lib.fqn}</code> <span class="badge ${lib.published ? 'ok' : ''}">${lib.published ? t('admin.libs.published') : t('admin.libs.unpublished')}</span></h3>
      <dl class="facts">
        ${lib.author ? html`<dt>${t('admin.libs.author')}</dt><dd>${lib.author}</dd>` : nothing}
        ${lib.license ? html`<dt>${t('admin.libs.license')}</dt><dd>${lib.license}</dd>` : nothing}
        ${links.length ? html`<dt>${t('admin.libs.links')}</dt><dd>${links.map(([k, u]) => html`<a href=${u} rel="noopener noreferrer">${t(`admin.libs.${k}`)}</a> `)}</dd>` : nothing}
        <dt>${t('admin.libs.components')}</dt><dd>${components.length ? components.map((c) => html`<code>${c}</code> `) : t('admin.none')}</dd>
      </dl>
      <table class="list versions"><caption>${t('admin.libs.versionsOf', { fqn: lib.fqn })}</caption>
        <thead><tr><th scope="col">${t('admin.libs.version')}</th><th scope="col">${t('admin.libs.dependencies')}</th>
          <th scope="col">${t('admin.libs.size')}</th>${verRights.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${lib.versions.map((v) => html`<tr>
          <td><code>${v.version}</code></td>
          <td>${v.dependencies && Object.keys(v.dependencies).length ? html`<ul class="deps">${Object.entries(v.dependencies).map(([fqn, expr]) => html`<li><code>${fqn}</code> ${expr || '*'}</li>`)}</ul>` : t('admin.none')}</td>
          <td>${formatBytes(v.file_size)}</td>
          ${verRights.destroy ? html`<td class="actions"><button type="button" class="danger" ?disabled=${this.busy}
            @click=${() => this.uninstall('version', lib, v)} aria-label=${t('admin.libs.uninstallVersionLabel', { what: `${lib.fqn} ${v.version}` })}>${t('admin.libs.uninstall')}</button>
            ${this.blockedBox(`v-${v.id}`)}${this.general(`v-${v.id}`)}</td>` : nothing}
        </tr>`)}</tbody></table>
      <div class="buttons">
        ${libRights.change ? html`<button type="button" class="secondary" ?disabled=${this.busy} @click=${() => this.setPublished(lib, !lib.published)}
          aria-label=${lib.published ? t('admin.libs.unpublishLabel', { fqn: lib.fqn }) : t('admin.libs.publishLabel', { fqn: lib.fqn })}>${lib.published ? t('admin.libs.unpublish') : t('admin.libs.publish')}</button>` : nothing}
        ${libRights.destroy ? html`<button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.uninstall('library', lib, null)}
          aria-label=${t('admin.libs.uninstallLibraryLabel', { fqn: lib.fqn })}>${t('admin.libs.uninstallLibrary')}</button>` : nothing}
      </div>
      ${this.blockedBox(`lib-${lib.id}`)}${this.general(`lib-${lib.id}`)}
    </article>`;
  }

  render() {
    return this.frame(t('admin.section.libraries'), () => html`
      <p class="lead">${t('admin.libs.lead')}</p>
      ${this.uploadForm()}
      <section aria-labelledby="lib-list"><h2 id="lib-list">${t('admin.libs.installedTitle')}</h2>
        ${this.libs && this.libs.length ? this.libs.map((l) => this.library(l)) : html`<p>${t('admin.libs.none')}</p>`}
      </section>`, !!this.libs);
  }
}

customElements.define('ob-admin-libraries', ObAdminLibraries);
