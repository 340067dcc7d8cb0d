/**
 * Builds the browser app (Vite, JS API) into dashboard/web/dist when dist is missing or older than
 * the sources, so `npm start` on a fresh clone serves a fresh build with no extra command.
 * `npm run build:web` forces a build.
 *
 * Vite is a devDependency: it is imported only when a build is needed, so a production install
 * that ships a prebuilt dist (`npm ci --omit=dev`) never loads it.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(WEB_DIR, 'dist');
/**
 * Written last by a build: when it was built and every file it wrote (dist-relative, `/`
 * separators). The server serves those files and no other (dashboard/server/index.ts), so a file
 * put into dist by hand is not public. A dotfile: never served itself.
 */
export const WEB_BUILD_STAMP = '.built';
interface WebBuildStamp { builtAt: string; files: string[] }

/** Every file under `dir` except dotfiles and dot-folders, dist-relative. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : e.isFile() ? [`${prefix}${e.name}`] : []);
}

/** The files the build that made `dist` wrote, from its stamp; undefined when dist has no such list. */
export function builtWebFiles(dist: string): string[] | undefined {
  let stamp: Partial<WebBuildStamp>;
  try { stamp = JSON.parse(readFileSync(join(dist, WEB_BUILD_STAMP), 'utf8')) as Partial<WebBuildStamp>; } catch { return undefined; }
  return Array.isArray(stamp.files) && stamp.files.every((f) => typeof f === 'string') ? stamp.files : undefined;
}

/** The Vite configuration shared by the build and the dev server (vite.config.ts). */
export function webViteConfig(outDir = WEB_DIST): InlineConfig {
  return {
    root: WEB_DIR,
    base: '/',
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    // Preact's automatic JSX runtime: no plugin needed
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 1200,
    },
    server: {
      // `npx vite dashboard/web` against a platform on the default port
      proxy: { '/api': 'http://127.0.0.1:8080', '/socket.io': { target: 'http://127.0.0.1:8080', ws: true } },
    },
  };
}

/** Modules outside src/ that the app bundles (shared with the server). */
const SHARED_SOURCES = ['../../core/topology/polygon.ts', '../../core/messages'];

/** Newest modification time of the app's sources (src/**, index.html, this file, the shared modules). */
export function newestSourceMtime(): number {
  let newest = 0;
  const walk = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) { for (const e of readdirSync(p)) walk(join(p, e)); return; }
    newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of ['src', 'index.html', 'build.ts', ...SHARED_SOURCES]) if (existsSync(join(WEB_DIR, p))) walk(join(WEB_DIR, p));
  return newest;
}

/** Whether dist holds a complete build at least as new as every source file. */
export function webBuildIsFresh(): boolean {
  const stamp = join(WEB_DIST, WEB_BUILD_STAMP);
  // a dist without the list of its files (an older build) is built again: the server would serve none of it
  if (!existsSync(stamp) || !existsSync(join(WEB_DIST, 'index.html')) || !builtWebFiles(WEB_DIST)) return false;
  return statSync(stamp).mtimeMs >= newestSourceMtime();
}

export interface WebBuildResult { built: boolean; ms: number; dist: string; reason?: string }

/**
 * Build unless dist is fresh. The build goes to a temporary folder and replaces dist at the end,
 * so a server never serves a half-written dist and two processes starting at once do not clash.
 */
export async function ensureWebBuilt(opts: { force?: boolean; log?: (msg: string) => void } = {}): Promise<WebBuildResult> {
  const log = opts.log ?? ((m: string) => console.log(m));
  if (!opts.force && webBuildIsFresh()) return { built: false, ms: 0, dist: WEB_DIST };
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    // production install without devDependencies: serve what was shipped
    if (builtWebFiles(WEB_DIST)) return { built: false, ms: 0, dist: WEB_DIST, reason: 'vite not installed; serving the shipped build' };
    if (existsSync(join(WEB_DIST, 'index.html'))) {
      throw new Error('dashboard/web/dist has no list of the files its build wrote (dist/.built; an older build), so the server serves none of it, and vite (a devDependency) is not installed: ship a dist built by `npm run build:web` of this version');
    }
    throw new Error(`dashboard/web/dist is missing and vite (a devDependency) is not installed: run \`npm ci\` and \`npm run build:web\`, or ship a prebuilt dashboard/web/dist`);
  }
  const started = performance.now();
  const tmp = join(WEB_DIR, `.dist-tmp-${process.pid}`);
  try {
    await vite.build(webViteConfig(tmp));
    const stamp: WebBuildStamp = { builtAt: new Date().toISOString(), files: filesUnder(tmp).sort() };
    writeFileSync(join(tmp, WEB_BUILD_STAMP), `${JSON.stringify(stamp, null, 1)}\n`);
    const old = join(WEB_DIR, `.dist-old-${process.pid}`);
    try {
      renameSync(WEB_DIST, old);
    } catch (e) {
      // no dist yet, or another build moved it away a moment ago
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      renameSync(tmp, WEB_DIST);
    } catch (e) {
      // another process put its build of the same sources there first: that one serves
      if (!webBuildIsFresh()) throw e;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ms = Math.round(performance.now() - started);
  log(`dashboard web app built in ${ms} ms (${WEB_DIST})`);
  return { built: true, ms, dist: WEB_DIST };
}

// `npm run build:web`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureWebBuilt({ force: true }).catch((e: unknown) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
