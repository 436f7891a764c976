// build.mjs - builds the browser app from src/ into app/ (served at /app/).
//
//   node build.mjs            production build (minified)
//   node build.mjs --dev      readable output with source maps
//
// esbuild bundles src/main.js as ES modules with code splitting: every
// import() in the route table (src/app.js) becomes a chunk of its own, so
// the reader's first page loads only the shell and the reader's views.
// The service worker is built last: it gets the list of files of this
// build to keep for offline use, and a build id that renames its cache.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const src = join(here, 'src');
const out = join(here, 'app');
const dev = process.argv.includes('--dev');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await esbuild.build({
  entryPoints: { main: join(src, 'main.js'), app: join(src, 'styles.css'), studio: join(src, 'studio', 'studio.css') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev,
  chunkNames: 'chunks/[name]-[hash]',
  entryNames: '[name]',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// The administration's stylesheet (app/admin.css), linked by its chunk
// when it loads.
await esbuild.build({
  entryPoints: { admin: join(src, 'admin', 'admin.css') },
  outdir: out,
  bundle: true,
  minify: !dev,
  logLevel: 'warning',
});

async function walk(dir) {
  const files = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files.push(...await walk(p));
    else files.push(p);
  }
  return files;
}

const built = (await walk(out)).filter((f) => !f.endsWith('.map')).map((f) => relative(out, f)).sort();

// What the service worker stores at install: everything but the parts
// few people use (the administration, the studio): its entry chunk, the chunks only
// it reaches, and its stylesheet, so readers' browsers never fetch them.
const FEW_USERS = /^src\/(admin|studio)\//;
const outputs = Object.fromEntries(Object.entries(result.metafile.outputs).map(([k, v]) => [relative(out, k), v]));
const reached = new Set();
(function reach(f) {
  if (reached.has(f) || !outputs[f] || FEW_USERS.test(outputs[f].entryPoint || '')) return;
  reached.add(f);
  for (const i of outputs[f].imports) reach(relative(out, i.path));
})('main.js');
const precached = built.filter((f) => reached.has(f) || f === 'app.css');
const hash = createHash('sha256');
for (const f of built) hash.update(f).update(await readFile(join(out, f)));
const build = hash.digest('hex').slice(0, 12);

// The chunks main.js imports statically are announced in index.html, so the
// browser fetches them alongside main.js instead of after it.
const mainOut = Object.entries(result.metafile.outputs).find(([k]) => relative(out, k) === 'main.js')[1];
const preload = mainOut.imports.filter((i) => i.kind === 'import-statement')
  .map((i) => `<link rel="modulepreload" href="${relative(out, i.path)}">`).join('\n');
const index = (await readFile(join(src, 'index.html'), 'utf8')).replaceAll('__BUILD__', build)
  .replace('<!--PRELOAD-->', preload);
await writeFile(join(out, 'index.html'), index);

await esbuild.build({
  entryPoints: [join(src, 'sw.js')],
  outfile: join(out, 'sw.js'),
  bundle: true,
  format: 'iife',
  minify: !dev,
  define: {
    __BUILD__: JSON.stringify(build),
    __PRECACHE__: JSON.stringify(['./', ...precached]),
  },
  logLevel: 'warning',
});

// What the bench and the README report: the main bundle's size, and
// which chunk each lazily loaded module ended up in.
await writeFile(join(out, 'build.json'), JSON.stringify({
  build,
  files: built,
  outputs: Object.fromEntries(Object.entries(result.metafile.outputs).map(([k, v]) => [relative(out, k), {
    bytes: v.bytes, imports: v.imports.map((i) => ({ path: relative(out, i.path), kind: i.kind })),
  }])),
}, null, 1));
console.log(`app: built ${built.length} files into ${relative(process.cwd(), out) || '.'} (build ${build})`);
