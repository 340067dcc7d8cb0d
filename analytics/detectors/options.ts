/**
 * The detectors' options in the site configuration: `analytics.detectors.<name>`, one section per
 * detector (its `name`), each validated by the schema its folder exports (`<folder>/options.ts`),
 * whose defaults are the detector's own. bin passes this schema to the config loader (and to the
 * JSON Schema generator), as it passes the sources' registry; analytics/compose.ts hands the parsed
 * sections to createDetectors for live and replay alike.
 */
import { z } from 'zod';
import { burstOptionsSchema } from './burst/options.ts';
import { meterOptionsSchema } from './meters/options.ts';
import { nightFlowOptionsSchema } from './night-flow/options.ts';
import { leakChangeOptionsSchema } from './leak-change/options.ts';
import { outageOptionsSchema } from './outage/options.ts';
import { pressureOptionsSchema } from './pressure/options.ts';
import { pressureModelOptionsSchema } from './pressure-model/options.ts';
import { qualityOptionsSchema } from './quality/options.ts';
import { repairCheckOptionsSchema } from './repair-check/options.ts';
import { sensorHealthOptionsSchema } from './sensor-health/options.ts';

export const detectorOptionsSchema = z.object({
  'sensor-health': sensorHealthOptionsSchema.prefault({}),
  burst: burstOptionsSchema.prefault({}),
  pressure: pressureOptionsSchema.prefault({}),
  'night-flow': nightFlowOptionsSchema.prefault({}),
  'leak-change': leakChangeOptionsSchema.prefault({}),
  'pressure-model': pressureModelOptionsSchema.prefault({}),
  outage: outageOptionsSchema.prefault({}),
  quality: qualityOptionsSchema.prefault({}),
  meters: meterOptionsSchema.prefault({}),
  'repair-check': repairCheckOptionsSchema.prefault({}),
}).strict();

/** What createDetectors takes: any section, or none (the defaults). */
export type DetectorOptions = z.input<typeof detectorOptionsSchema>;
