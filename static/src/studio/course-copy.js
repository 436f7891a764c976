// course-copy.js - a new course from a template course: the course, then
// what the user may see of the template: its roles (with permissions), its
// materials with their page ranges, its enrolment methods (without
// passphrases: they are write-only, api-resources.md) and its public
// permissions.  One request per row; the template is never changed.
import { listAll, create, patch } from '../api.js';
import { COURSE } from './perms.js';

export async function copyCourse(template, body) {
  const scope = { scope_type: COURSE, scope_uuid: template.id };
  const [roles, materials, methods] = await Promise.all([
    listAll('studio.roles', scope).catch(() => []),
    listAll('studio.materials', { course: template.id }),
    listAll('studio.methods', scope).catch(() => []),
  ]);
  const course = await create('studio.courses', body);
  const into = { scope_type: COURSE, scope_uuid: course.id };
  for (const r of roles) {
    await create('studio.roles', { ...into, slug: r.slug, name: r.name, description: r.description, priority: r.priority,
      is_active: r.is_active, permissions: r.permissions });
  }
  for (const m of materials.sort((a, b) => a.position - b.position)) {
    const copy = await create('studio.materials', { course: course.id, textbook: m.textbook, position: m.position });
    const ranges = await listAll('studio.ranges', { material: m.id });
    for (const r of ranges) {
      await create('studio.ranges', { material: copy.id, start_page: r.start_page, end_page: r.end_page, position: r.position });
    }
  }
  for (const m of methods) {
    await create('studio.methods', { ...into, name: m.name, description: m.description, role: m.role, end_date: m.end_date, is_active: m.is_active });
  }
  if ((template.public_permissions || []).length) {
    await patch('studio.courses', course.id, { public_permissions: template.public_permissions });
  }
  return course;
}
