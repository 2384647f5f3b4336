// Entry point for CMake's `web` target: builds dist/ when the npm packages
// are installed, otherwise says how to install them and succeeds (the C
// programs still build; the API then serves no dashboard).
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(web, 'node_modules', 'esbuild')) || !existsSync(join(web, 'node_modules', 'world-atlas'))) {
  console.log('web: dashboard not built: npm packages missing; run scripts/install-deps.sh (npm ci in dashboard-api/web)');
} else {
  await import('../build.mjs');
}
