/**
 * The BattLeDIM bench's phase runs (bench/detect/battledim.ts) move every timestamp of the readings
 * and of the leak log by the same minutes, in the files' own formats; the values stay as they were.
 * (Invented rows: the datasets themselves are never committed.)
 */
import { describe, expect, it } from 'vitest';
import { shiftCsvTimestamps } from '../bench/detect/battledim.ts';

describe('shiftCsvTimestamps', () => {
  it('moves the readings\' timestamps across midnight and a month, keeping the decimal commas', () => {
    const flows = 'Timestamp;a;b\n2019-01-31 23:50:00;1,5;2\n2019-02-01 00:05:00;3;4,25\n';
    expect(shiftCsvTimestamps(flows, 15, ';')).toBe('Timestamp;a;b\n2019-02-01 00:05:00;1,5;2\n2019-02-01 00:20:00;3;4,25\n');
  });

  it('moves the leak log\'s start, end and peak, and leaves `ongoing` and the numbers alone', () => {
    const leaks = 'pipe,start,end,diameter_m,type,peak\nx1,2019-03-01 10:00,ongoing,0.01,abrupt,2019-03-01 10:00\nx2,2019-06-30 23:30,2019-07-01 01:00,0.02,incipient,2019-06-30 23:55\n';
    expect(shiftCsvTimestamps(leaks, 45, ',')).toBe(
      'pipe,start,end,diameter_m,type,peak\nx1,2019-03-01 10:45,ongoing,0.01,abrupt,2019-03-01 10:45\nx2,2019-07-01 00:15,2019-07-01 01:45,0.02,incipient,2019-07-01 00:40\n',
    );
  });
});
