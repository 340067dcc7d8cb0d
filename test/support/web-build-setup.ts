/**
 * vitest globalSetup of the parallel group: build the dashboard's web app once before its files
 * run, so two of them serving it do not each build it at the same moment.
 */
import { ensureWebBuilt } from '../../dashboard/web/build.ts';

export default async function setup(): Promise<void> {
  await ensureWebBuilt({ log: () => {} });
}
