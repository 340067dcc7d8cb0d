import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance } from '../support/tsdb-conformance.ts';
import { SqliteStore } from '../../core/tsdb/sqlite.ts';

describeStoreConformance('sqlite (embedded)', async () => {
  const s = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'aw-tsdb-')), 'tsdb.sqlite'));
  await s.init();
  return s;
});
