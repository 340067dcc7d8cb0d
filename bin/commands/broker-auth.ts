/**
 * `aquawatch broker-auth --config FILE --out DIR`: Mosquitto's `passwd` and `acl` files from the
 * site config's `broker:` section (core/bus/broker-auth.ts). Compose runs it before Mosquitto
 * starts, so users and topic rights come from the environment the config names.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerAuthError, mosquittoAuthFiles } from '../../core/bus/broker-auth.ts';
import { parseCommandLine } from '../../core/command-line.ts';
import { CONFIG_OPTION, loadConfigOrExplain } from './common.ts';

const USAGE = `usage: aquawatch broker-auth --config FILE --out DIR

Writes DIR/passwd and DIR/acl for Mosquitto from the configuration's broker section.

options:
  -c, --config FILE   configuration (default: $AQUAWATCH_CONFIG)
      --out DIR       where to write passwd and acl (required)
  -h, --help          this text`;

export async function run(argv: string[]): Promise<number> {
  const cl = parseCommandLine({ command: 'aquawatch broker-auth', usage: USAGE, options: { ...CONFIG_OPTION, out: { type: 'string' } } }, argv);
  if (typeof cl === 'number') return cl;
  const { values } = cl;
  const out = values.out;
  if (!out) return cl.fail('--out is required');
  const config = loadConfigOrExplain(values.config);
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
