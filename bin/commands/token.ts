/**
 * `aquawatch token create|rotate|list|revoke --device ID`: device tokens for PDA uploads.
 * A token is shown once, when it is made; only its SHA-256 hash is kept.
 */
import { mkdirSync } from 'node:fs';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import { stateDbPath } from '../../core/state/state-db.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';

const USAGE = `usage: aquawatch token create|rotate|revoke --device ID [--note TEXT]
       aquawatch token list

Device tokens for PDA uploads. A token is shown once, when it is made (create, rotate); only its
SHA-256 hash is kept, in the state database under dataDir.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG, else the built-in defaults)
      --device ID     the device (create, rotate, revoke)
      --note TEXT     a note kept with the token (create, rotate)
  -h, --help          this text`;

const ACTIONS = ['create', 'rotate', 'revoke', 'list'];

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({
    command: 'aquawatch token', usage: USAGE, positionals: true,
    options: { ...CONFIG_OPTION, device: { type: 'string' }, note: { type: 'string' } },
  }, argv);
  if (typeof cl === 'number') return cl;
  const { values, positionals } = cl;
  const action = positionals[0];
  if (!action) return cl.fail('an action is required: create, rotate, revoke or list');
  if (!ACTIONS.includes(action)) return cl.fail(`unknown action '${action}' (create, rotate, revoke or list)`);
  if (positionals.length > 1) return cl.fail(`unexpected argument '${positionals[1]}'`);
  if (action !== 'list' && !values.device) return cl.fail('--device: required');
  const config = loadConfigOrExplain(values.config);
  if (!config) return 2;
  mkdirSync(config.dataDir, { recursive: true });
  const tokens = new DeviceTokenStore(stateDbPath(config));
  try {
    if (action === 'list') {
      for (const t of tokens.list()) console.log(JSON.stringify(t));
      return 0;
    }
    const device = values.device!;
    switch (action) {
      case 'create':
      case 'rotate': {
        const token = action === 'create' ? tokens.create(device, values.note) : tokens.rotate(device, values.note);
        console.log(`device ${device}: ${token}`);
        console.error('This is the only time the token is shown; configure it on the device now.');
        return 0;
      }
      default: // revoke
        if (!tokens.revoke(device)) { console.error(`no token for device ${device}`); return 1; }
        console.log(`device ${device}: token revoked`);
        return 0;
    }
  } catch (e) {
    console.error(`aquawatch token: ${(e as Error).message}`);
    return 1;
  } finally {
    tokens.close();
  }
}
