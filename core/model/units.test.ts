import { describe, it, expect } from 'vitest';
import { converterFor, isKnownUnit } from './units.ts';

describe('unit conversion to canonical units', () => {
  it('converts pressure from kPa, bar, psi and metres of head to MPa', () => {
    expect(converterFor('pressure', 'kPa')!(350)).toBeCloseTo(0.35, 10);
    expect(converterFor('pressure', 'bar')!(3.5)).toBeCloseTo(0.35, 10);
    expect(converterFor('pressure', 'psi')!(50)).toBeCloseTo(0.344738, 5);
    expect(converterFor('pressure', 'm')!(14.276)).toBeCloseTo(0.14, 3);
    expect(converterFor('pressure', 'mH2O')!(10)).toBeCloseTo(0.0980665, 7);
  });
  it('converts flow from L/s and m³/d to m³/h', () => {
    expect(converterFor('flow', 'L/s')!(10)).toBeCloseTo(36, 10);
    expect(converterFor('flow', 'm³/h')!(5)).toBe(5);
    expect(converterFor('flow', 'm3/d')!(240)).toBeCloseTo(10, 10);
  });
  it('converts temperature with an offset and conductivity by factor', () => {
    expect(converterFor('temperature', '°F')!(212)).toBeCloseTo(100, 10);
    expect(converterFor('temperature', 'K')!(273.15)).toBeCloseTo(0, 10);
    expect(converterFor('conductivity', 'mS/cm')!(0.5)).toBeCloseTo(500, 10);
    expect(converterFor('conductivity', 'µS/cm')!(500)).toBe(500);
  });
  it('treats a missing unit as the canonical one', () => {
    expect(converterFor('chlorine', undefined)!(0.4)).toBe(0.4);
  });
  it('refuses units of another quantity', () => {
    expect(converterFor('pressure', 'L/s')).toBeUndefined();
    expect(converterFor('flow', 'bar')).toBeUndefined();
    expect(isKnownUnit('turbidity', 'furlongs')).toBe(false);
    expect(isKnownUnit('valve', '%')).toBe(true);
  });
});
