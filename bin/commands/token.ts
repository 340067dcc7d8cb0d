/**
 * `aquawatch token create|rotate|list|revoke --device ID`: device tokens for PDA uploads.
 * A token is shown once, when it is made; only its SHA-256 hash is kept.
 */
import { mkdirSync } from 'node:fs';
import { DeviceTokenStore } from '../../core/state/device-tokens.ts';
import { stateDbPath } from '../../ingest/sources/index.ts';
import { commonOptions, loadConfigOrExplain } from './common.ts';

const USAGE = 'usage: aquawatch token create|rotate|revoke --device ID [--note TEXT] | aquawatch token list';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = commonOptions(argv, { device: { type: 'string' }, note: { type: 'string' } });
  const action = positionals[0];
  if (values.help || !action) { console.log(USAGE); return action ? 0 : 2; }
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  mkdirSync(config.dataDir, { recursive: true });
  const tokens = new DeviceTokenStore(stateDbPath(config));
  try {
    const device = values.device as string | undefined;
    if (action === 'list') {
      for (const t of tokens.list()) console.log(JSON.stringify(t));
      return 0;
    }
    if (!device) { console.error(`--device is required\n${USAGE}`); return 2; }
    switch (action) {
      case 'create':
      case 'rotate': {
        const token = action === 'create' ? tokens.create(device, values.note as string | undefined) : tokens.rotate(device, values.note as string | undefined);
        console.log(`device ${device}: ${token}`);
        console.error('This is the only time the token is shown; configure it on the device now.');
        return 0;
      }
      case 'revoke':
        if (!tokens.revoke(device)) { console.error(`no token for device ${device}`); return 1; }
        console.log(`device ${device}: token revoked`);
        return 0;
      default:
        console.error(USAGE);
        return 2;
    }
  } catch (e) {
    console.error(`aquawatch token: ${(e as Error).message}`);
    return 1;
  } finally {
    tokens.close();
  }
}
