// The package as a user gets it: `cargo xtask pack` builds the tarball (or
// FRINNY_PACKAGE_TGZ names one already built), and it is installed with npm
// into a fresh temporary project, exactly as a Foundry module's build would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

let tarball;
/** The packed tarball's path (packs once per process unless FRINNY_PACKAGE_TGZ is set). */
export function packageTarball() {
  if (tarball) return tarball;
  if (process.env.FRINNY_PACKAGE_TGZ) {
    tarball = resolve(process.env.FRINNY_PACKAGE_TGZ);
  } else {
    const out = execFileSync('cargo', ['xtask', 'pack'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    tarball = out.trim().split('\n').pop().trim();
  }
  if (!existsSync(tarball)) throw new Error(`no package tarball at ${tarball}`);
  return tarball;
}

/**
 * A new temporary project with the package installed from the tarball.
 * `extraPackageJson` is merged into the project's package.json (e.g.
 * devDependencies resolved from this repository's node_modules).
 * @returns {{dir: string, packageDir: string}}
 */
export function installedPackage(extraPackageJson = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'frinny-consumer-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'frinny-consumer', private: true, type: 'module', ...extraPackageJson }, null, 2),
  );
  // --offline would fail on a cold cache; the tarball has no dependencies,
  // so npm never needs the registry for it.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--ignore-scripts', packageTarball()], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dir, packageDir: join(dir, 'node_modules', 'frinny-agent') };
}

/** The repository root (for node_modules/.bin tools such as vite and tsc). */
export const REPO_ROOT = ROOT;
