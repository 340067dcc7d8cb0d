/**
 * OPC UA EngineeringUnits for the units our sensors declare. OPC UA Part 8 identifies a unit by its
 * UN/CEFACT Recommendation 20 common code (`unitId`); units without one (NTU, pH, a pump's on/off
 * state) get unitId −1 and are told apart by their display name, as the specification allows.
 */
import { makeEUInformation } from 'node-opcua';
import { normaliseUnit } from '../../core/model/units.ts';

/** normalised unit → [UN/CEFACT common code or '' for none, display name, description]. */
const EU_TABLE: Record<string, [string, string, string]> = {
  mpa: ['MPA', 'MPa', 'megapascal'],
  kpa: ['KPA', 'kPa', 'kilopascal'],
  pa: ['PAL', 'Pa', 'pascal'],
  bar: ['BAR', 'bar', 'bar'],
  mbar: ['MBR', 'mbar', 'millibar'],
  psi: ['PS', 'psi', 'pound-force per square inch'],
  mh2o: ['', 'mH2O', 'metre of water column'],
  mwc: ['', 'mH2O', 'metre of water column'],
  'm3/h': ['MQH', 'm³/h', 'cubic metre per hour'],
  'l/s': ['G51', 'L/s', 'litre per second'],
  'l/min': ['L2', 'L/min', 'litre per minute'],
  'm3/s': ['MQS', 'm³/s', 'cubic metre per second'],
  'm3/d': ['G52', 'm³/d', 'cubic metre per day'],
  gpm: ['AS', 'gal/min', 'US gallon per minute'],
  m: ['MTR', 'm', 'metre'],
  cm: ['CMT', 'cm', 'centimetre'],
  mm: ['MMT', 'mm', 'millimetre'],
  'mg/l': ['M1', 'mg/L', 'milligram per litre'],
  ppm: ['59', 'ppm', 'part per million'],
  'ug/l': ['', 'µg/L', 'microgram per litre'],
  ntu: ['', 'NTU', 'nephelometric turbidity unit'],
  ftu: ['', 'FTU', 'formazin turbidity unit'],
  ph: ['', 'pH', 'pH'],
  'us/cm': ['G42', 'µS/cm', 'microsiemens per centimetre'],
  'ms/cm': ['H61', 'mS/cm', 'millisiemens per centimetre'],
  degc: ['CEL', '°C', 'degree Celsius'],
  c: ['CEL', '°C', 'degree Celsius'],
  '°c': ['CEL', '°C', 'degree Celsius'],
  degf: ['FAH', '°F', 'degree Fahrenheit'],
  k: ['KEL', 'K', 'kelvin'],
  state: ['', 'state', 'on/off state (0 off, 1 on)'],
  '%': ['P1', '%', 'percent'],
  percent: ['P1', '%', 'percent'],
  m3: ['MTQ', 'm³', 'cubic metre'],
  l: ['LTR', 'L', 'litre'],
};

/**
 * EngineeringUnits for a sensor's `unit`; an unknown unit is still shown by name (unitId −1).
 * A pressure in `m` is metres of water column, as the platform reads it.
 */
export function engineeringUnits(unit: string, kind?: string): ReturnType<typeof makeEUInformation> {
  const key = normaliseUnit(unit);
  const entry = EU_TABLE[kind === 'pressure' && key === 'm' ? 'mh2o' : key];
  const [code, display, description] = entry ?? ['', unit, unit];
  const eu = makeEUInformation(code, display, description);
  if (!code) eu.unitId = -1;
  return eu;
}
