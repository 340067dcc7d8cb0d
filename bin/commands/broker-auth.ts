/**
 * `aquawatch broker-auth --config FILE --out DIR`: Mosquitto's `passwd` and `acl` files from the
 * site config's `broker:` section (core/bus/broker-auth.ts). Compose runs it before Mosquitto
 * starts, so users and topic rights come from the environment the config names.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerAuthError, mosquittoAuthFiles } from '../../core/bus/broker-auth.ts';
import { commonOptions, loadConfigOrExplain } from './common.ts';

const USAGE = 'usage: aquawatch broker-auth --config FILE --out DIR   (writes DIR/passwd and DIR/acl for Mosquitto)';

export async function run(argv: string[]): Promise<number> {
  const { values } = commonOptions(argv, { out: { type: 'string' } });
  if (values.help) { console.log(USAGE); return 0; }
  const out = values.out as string | undefined;
  if (!out) { console.error(`--out is required\n${USAGE}`); return 2; }
  const config = loadConfigOrExplain(values.config as string | undefined);
  if (!config) return 2;
  let files: { passwd: string; acl: string };
  try {
    files = mosquittoAuthFiles(config.broker);
  } catch (e) {
    if (e instanceof BrokerAuthError) { console.error(`configuration error: ${e.message}`); return 2; }
    throw e;
  }
  mkdirSync(out, { recursive: true });
  // Written aside and renamed, so a Mosquitto reading them never sees half a file.
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(out, `${name}.tmp`), text, { mode: 0o644 });
    renameSync(join(out, `${name}.tmp`), join(out, name));
  }
  console.log(`wrote ${join(out, 'passwd')} (${config.broker.users.length + 1} users) and ${join(out, 'acl')}`);
  return 0;
}
