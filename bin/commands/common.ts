/**
 * What the commands share: the `--config` option and loading the configuration with a clear error.
 * Their options are read by core/command-line.ts (usage on --help, exit 2 on a bad option).
 */
import { ConfigError, type LoadedConfig } from '../../core/config/load.ts';
import { loadSiteConfig } from '../site-config.ts';

/** `-c/--config FILE`: the site configuration (else $AQUAWATCH_CONFIG, else the built-in defaults). */
export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

/**
 * Load the config (`--config`, else $AQUAWATCH_CONFIG, else defaults) or print a clear error; the
 * commands then exit 2, like any other usage error.
 */
export function loadConfigOrExplain(file: string | undefined): LoadedConfig | undefined {
  try {
    return loadSiteConfig(file ?? process.env.AQUAWATCH_CONFIG, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`configuration error: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}
