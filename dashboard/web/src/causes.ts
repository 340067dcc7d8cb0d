/** The outage cause codes in the order people pick them (analytics/outages/types.ts CAUSE_CODES). */
export const CAUSES = ['maintenance', 'retrofit', 'repair', 'burst', 'pump_trip', 'power_failure', 'raw_water_shortage', 'water_quality', 'third_party_damage', 'other', 'unknown'];
