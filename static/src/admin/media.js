// <ob-admin-media> (#/admin/media): media files (/api/core/media_files/):
// the files attached to textbooks, courses and library groups; upload
// (multipart, with a progress bar), replace a file's content, delete.
// Controls follow the model permissions (view/add/change/delete_mediafile).
// Hidden on a server without the media API.
import { AdminSection, html, nothing, t, select, confirmed, fileField } from './common.js';
import { listAll, destroy } from '../api.js';
import { formatBytes } from './validate.js';
import { upload, uploadErrors } from './upload.js';
import { progressBar } from './progress.js';
import { safeUrl } from '../render.js';

const MEDIA = '/api/core/media_files/';

/** The kinds of items files attach to: content type, resource, label key. */
const OWNERS = [
  { type: 'openbook_content.textbook', resource: 'textbooks', label: 'admin.media.textbook' },
  { type: 'openbook_content.course', resource: 'courses', label: 'admin.media.course' },
  { type: 'openbook_content.librarygroup', resource: 'libraryGroups', label: 'admin.media.libraryGroup' },
];

class ObAdminMedia extends AdminSection {
  static section = 'media';

  static properties = {
    ...AdminSection.properties, files: { state: true }, owners: { state: true }, ownerType: { state: true }, progress: { state: true },
  };

  constructor() {
    super();
    this.progress = {};
    this.ownerType = OWNERS[0].type;
  }

  async load() {
    await this.fetching(async () => {
      const [files, ...owners] = await Promise.all([
        listAll('mediaFiles'), ...OWNERS.map((o) => listAll(o.resource, {}, { fields: ['id', 'name'] }).catch(() => [])),
      ]);
      this.owners = Object.fromEntries(OWNERS.map((o, i) => [o.type, owners[i]]));
      this.files = files;
    });
  }

  /** "Textbook: HTML basics" for a file's object (UUIDs are unique
   * across types, so the id finds it). */
  ownerName(f) {
    for (const o of OWNERS) {
      const item = (this.owners[o.type] || []).find((x) => x.id === f.object_id);
      if (item) return `${t(o.label)}: ${item.name}`;
    }
    return `${f.content_type} ${f.object_id}`;
  }

  async send(method, path, fields, scope, okText) {
    this.errors = { ...this.errors, [scope]: {} };
    this.progress = { ...this.progress, [scope]: { loaded: 0, total: fields.file_data.size } };
    const res = await upload(method, path, fields, {
      onProgress: (loaded, total) => { this.progress = { ...this.progress, [scope]: { loaded, total: total || fields.file_data.size } }; },
    });
    this.progress = { ...this.progress, [scope]: null };
    if (res.status === 200 || res.status === 201) {
      await this.load();
      this.say(okText);
      return true;
    }
    this.errors = { ...this.errors, [scope]: uploadErrors(res, (s) => (s === 413 ? t('admin.media.tooLarge') : s === 0 ? t('error.offline') : t('error.generic'))) };
    return false;
  }

  async add(e) {
    e.preventDefault();
    const form = e.target;
    const file = form.elements.file.files[0];
    const object = form.elements.object.value;
    const errs = {};
    if (!file) errs.file_data = [t('admin.media.chooseFile')];
    if (!object) errs.object_id = [t('admin.v.required')];
    if (Object.keys(errs).length) {
      this.errors = { ...this.errors, create: errs };
      return;
    }
    if (await this.send('POST', MEDIA, { content_type: this.ownerType, object_id: object, file_data: file }, 'create',
      t('admin.media.uploaded', { name: file.name }))) form.reset();
  }

  async replaceFile(f) {
    const input = this.querySelector(`#mf-${f.id}`);
    const file = input && input.files[0];
    const scope = `row-${f.id}`;
    if (!file) {
      this.errors = { ...this.errors, [scope]: { '': [t('admin.media.chooseFile')] } };
      return;
    }
    await this.send('PATCH', `${MEDIA}${encodeURIComponent(f.id)}/`, { file_data: file }, scope, t('admin.media.replaced', { name: f.file_name }));
  }

  async deleteItem(f) {
    if (!confirmed(t('admin.media.deleteConfirm', { name: f.file_name }))) return;
    if (await this.run(() => destroy('mediaFiles', f.id).then(() => true), `row-${f.id}`)) {
      await this.load();
      this.say(t('admin.media.deleted', { name: f.file_name }));
    }
  }

  uploadForm(r) {
    if (!r.create) return nothing;
    const items = (this.owners && this.owners[this.ownerType]) || [];
    const p = this.progress.create;
    const e = (k) => this.err(k, 'create');
    return html`<section aria-labelledby="mf-new"><h2 id="mf-new">${t('admin.media.upload')}</h2>
      <form novalidate @submit=${(ev) => this.add(ev)}>
        ${select({ id: 'mf-type', label: t('admin.media.ownerType'), value: this.ownerType, errors: e('content_type'),
          options: OWNERS.map((o) => ({ value: o.type, label: t(o.label) })), onChange: (ev) => { this.ownerType = ev.target.value; } })}
        ${select({ id: 'mf-object', name: 'object', label: t('admin.media.owner'), value: '', errors: e('object_id'),
          options: [{ value: '', label: t('admin.media.chooseOwner') }, ...items.map((x) => ({ value: x.id, label: x.name }))] })}
        ${fileField({ id: 'mf-file', name: 'file', label: t('admin.media.file'), errors: e('file_data') })}
        ${p ? progressBar(p.loaded, p.total, t('admin.media.uploading')) : nothing}
        ${this.general('create', ['content_type', 'object_id', 'file_data'])}
        <button type="submit" ?disabled=${!!p}>${t('admin.upload')}</button>
      </form></section>`;
  }

  render() {
    const r = this.rights(MEDIA);
    return this.frame(t('admin.section.media'), () => html`
      <p class="lead">${t('admin.media.lead')}</p>
      ${this.uploadForm(r)}
      <section aria-labelledby="mf-list"><h2 id="mf-list">${t('admin.media.files')}</h2>
      ${this.files && this.files.length ? html`<table class="list"><thead><tr><th scope="col">${t('admin.media.file')}</th>
        <th scope="col">${t('admin.media.owner')}</th><th scope="col">${t('admin.media.type')}</th><th scope="col">${t('admin.libs.size')}</th>
        ${r.change || r.destroy ? html`<th scope="col">${t('common.actions')}</th>` : nothing}</tr></thead>
        <tbody>${this.files.map((f) => html`<tr>
          <td>${safeUrl(f.file_data) ? html`<a href=${f.file_data}>${f.file_name}</a>` : f.file_name}</td>
          <td>${this.ownerName(f)}</td><td>${f.mime_type}</td><td>${formatBytes(f.file_size)}</td>
          ${r.change || r.destroy ? html`<td>
            ${r.change ? html`<div class="upload-row"><label class="visually-hidden" for=${`mf-${f.id}`}>${t('admin.media.newContent', { name: f.file_name })}</label>
              <input type="file" id=${`mf-${f.id}`}>
              <button type="button" class="secondary" ?disabled=${!!this.progress[`row-${f.id}`]} @click=${() => this.replaceFile(f)}
                aria-label=${t('admin.media.replaceLabel', { name: f.file_name })}>${t('admin.media.replace')}</button></div>
              ${this.progress[`row-${f.id}`] ? progressBar(this.progress[`row-${f.id}`].loaded, this.progress[`row-${f.id}`].total, t('admin.media.uploading')) : nothing}` : nothing}
            ${r.destroy ? html`<button type="button" class="danger" @click=${() => this.deleteItem(f)}
              aria-label=${t('admin.deleteNamed', { name: f.file_name })}>${t('admin.delete')}</button>` : nothing}
            ${this.general(`row-${f.id}`)}</td>` : nothing}
        </tr>`)}</tbody></table>` : html`<p>${t('admin.media.none')}</p>`}
      </section>`, !!this.files);
  }
}

customElements.define('ob-admin-media', ObAdminMedia);
