// Install step of @untapped/native: builds the addon with node-gyp when OpenBLAS's headers and
// library are present, and never fails the install. The outcome is written to build-status.json,
// which the loader (index.cjs) reads to say why the addon is absent.
//   node build.mjs           build unless UNTAPPED_NATIVE_BUILD=0
//   node build.mjs --force   build even when UNTAPPED_NATIVE_BUILD=0
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const statusFile = path.join(here, 'build-status.json');
const force = process.argv.includes('--force');

function done(ok, reason, detail = '') {
  fs.writeFileSync(statusFile, JSON.stringify({ ok, reason, detail, when: new Date().toISOString() }, null, 2) + '\n');
  console.log(`@untapped/native: ${ok ? 'built' : 'not built'}: ${reason}`);
  process.exit(0);
}

if (process.env.UNTAPPED_NATIVE_BUILD === '0' && !force) done(false, 'skipped because UNTAPPED_NATIVE_BUILD=0');

const headerDirs = [
  '/usr/include/x86_64-linux-gnu/openblas-pthread',
  '/usr/include/aarch64-linux-gnu/openblas-pthread',
  '/usr/include/openblas',
  '/usr/include/x86_64-linux-gnu',
  '/usr/include/aarch64-linux-gnu',
  '/usr/include',
  '/usr/local/include',
];
if (!headerDirs.some((d) => fs.existsSync(path.join(d, 'cblas.h')))) {
  done(false, 'OpenBLAS headers (cblas.h) not found; on Debian/Ubuntu: sudo apt-get install libopenblas-dev, then npm rebuild @untapped/native');
}

// npm gives lifecycle scripts the path of its bundled node-gyp; outside npm, use the node-gyp that
// ships with npm next to this Node.js, or one on PATH.
const prefix = path.dirname(path.dirname(process.execPath));
const bundled = path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gypJs = process.env.npm_config_node_gyp ?? (fs.existsSync(bundled) ? bundled : undefined);
const cmd = gypJs ? process.execPath : 'node-gyp';
const args = gypJs ? [gypJs, 'rebuild'] : ['rebuild'];
// Build against this Node's own headers when they are installed, so node-gyp never downloads any.
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(cmd, args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
if (r.error) done(false, `could not run node-gyp (${r.error.message})`, log);
if (r.status !== 0) {
  const tail = log.trim().split('\n').slice(-12).join('\n');
  done(false, `node-gyp rebuild failed (exit ${r.status}); last lines:\n${tail}`, log);
}
done(true, 'node-gyp rebuild linked against OpenBLAS');
