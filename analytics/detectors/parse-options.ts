/**
 * A detector's options through its own schema (`<folder>/options.ts`): defaults filled in, and a
 * refusal that names the option (`burst.stepZ: ...`), whether they come from the site config
 * (`analytics.detectors.<name>`) or from code.
 */
import type { z } from 'zod';

export function parseDetectorOptions<S extends z.ZodType>(detector: string, schema: S, options: unknown): z.output<S> {
  const r = schema.safeParse(options ?? {});
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${[detector, ...i.path.map(String)].join('.')}: ${i.message}`).join('; '));
}
