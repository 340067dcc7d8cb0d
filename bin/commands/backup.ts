/**
 * `aquawatch backup --out FILE` and `aquawatch restore FILE`: the state database (users, sessions,
 * alarms, work orders, device tokens) copied while the services run, and put back (core/state/backup.ts).
 */
import { dirname, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseCommandLine } from '../../core/command-line.ts';
import { stateDbPath } from '../../core/state/state-db.ts';
import { backupStateDb, restoreStateDb, StateBackupError } from '../../core/state/backup.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';

const BACKUP_USAGE = `usage: aquawatch backup --out FILE [--config FILE]

Copies the state database (state.path under dataDir) to FILE as one consistent snapshot, while
the services run.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --out FILE      where to write the copy (required)
  -h, --help          this text`;

const RESTORE_USAGE = `usage: aquawatch restore FILE [--config FILE]

Replaces the state database (state.path under dataDir) with FILE, a copy made by aquawatch backup,
after checking it. Refuses, naming them, while services have the state database open: stop them first.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
  -h, --help          this text`;

async function explained(action: () => Promise<string>): Promise<number> {
  try {
    console.log(await action());
    return 0;
  } catch (e) {
    if (e instanceof StateBackupError || (e as { code?: string }).code?.startsWith('SQLITE_')) {
      console.error(`aquawatch: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}

export async function runBackup(argv: string[]): Promise<number> {
  const cl = parseCommandLine({ command: 'aquawatch backup', usage: BACKUP_USAGE, options: { ...CONFIG_OPTION, out: { type: 'string' } } }, argv);
  if (typeof cl === 'number') return cl;
  const out = cl.values.out;
  if (!out) return cl.fail('--out is required');
  const config = loadConfigOrExplain(cl.values.config);
  if (!config) return 2;
  const from = stateDbPath(config);
  return explained(async () => {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    const { pages } = await backupStateDb(from, out);
    return `state database ${from} backed up to ${out} (${pages} pages)`;
  });
}

export async function runRestore(argv: string[]): Promise<number> {
  const cl = parseCommandLine({ command: 'aquawatch restore', usage: RESTORE_USAGE, positionals: true, options: { ...CONFIG_OPTION } }, argv);
  if (typeof cl === 'number') return cl;
  const [file, extra] = cl.positionals;
  if (!file) return cl.fail('the backup FILE is required');
  if (extra) return cl.fail(`unexpected argument '${extra}'`);
  const config = loadConfigOrExplain(cl.values.config);
  if (!config) return 2;
  const to = stateDbPath(config);
  return explained(async () => {
    mkdirSync(dirname(to), { recursive: true });
    const { pages } = await restoreStateDb(file, to);
    return `state database ${to} restored from ${file} (${pages} pages)`;
  });
}
