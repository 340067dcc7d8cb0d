/**
 * The limits a trend draws for a sensor: its own thresholds (topology) over the standard ones the
 * analytics apply — GB 5749-2022 by place for quality (as analytics/detectors/quality
 * `standardLimits`) and the minimum service pressure 0.14 MPa at network points (domain.md).
 */
import type { MapSensor, Thresholds } from '../../contract/index.ts';

function standard(s: MapSensor): Thresholds {
  switch (s.kind) {
    case 'chlorine': return s.place === 'plant-outlet' ? { low: 0.3, high: 2 } : { low: 0.05 };
    case 'turbidity': return { high: 1 };
    case 'ph': return { low: 6.5, high: 8.5 };
    case 'pressure': return s.place === 'network' || s.place === 'network-end' ? { low: 0.14 } : {};
    default: return {};
  }
}

export function effectiveThresholds(s: MapSensor): Thresholds {
  const own = Object.fromEntries(Object.entries(s.thresholds ?? {}).filter(([, v]) => typeof v === 'number'));
  return { ...standard(s), ...own };
}
