// Entry point for CMake's `web` target: builds dist/ when the npm packages
// are installed, otherwise says how to install them and succeeds (the C
// programs still build; the API then serves no dashboard).
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(web, 'node_modules', 'esbuild')) || !existsSync(join(web, 'node_modules', 'world-atlas'))) {
  console.log('web: dashboard not built: npm packages missing; run scripts/install-deps.sh (npm ci in dashboard-api/web)');
} else if (upToDate()) {
  console.log('web: dashboard-api/web/dist is up to date');
} else {
  await import('../build.mjs');
}

// dist/ is newer than every input (sources, build script, lock file).
function upToDate() {
  const outs = ['index.html', 'app.js', 'app.css'].map((f) => join(web, 'dist', f));
  if (!outs.every((f) => existsSync(f))) return false;
  const oldestOut = Math.min(...outs.map((f) => statSync(f).mtimeMs));
  const walk = (d) => readdirSync(d, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  const inputs = [...walk(join(web, 'src')), join(web, 'build.mjs'), join(web, 'package-lock.json')];
  return inputs.every((f) => statSync(f).mtimeMs < oldestOut);
}
