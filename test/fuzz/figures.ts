/**
 * The fuzz suite's figures (issue #11 §6): inputs tried, properties whose oracle failed (a parser
 * that threw where it may not, took longer than the bound, or lost or altered a good item), and the
 * slowest input. Printed as one JSON line after the suite; `npm run bench -- faults` runs the suite
 * with AQUAWATCH_FUZZ_FIGURES naming a file and reports them as `fuzz.inputs`, `fuzz.crashes` and
 * `fuzz.max_ms_per_input` (bench/fuzz-figures.ts).
 */
import { appendFileSync } from 'node:fs';

export interface FuzzFigures { inputs: number; failedProperties: number; maxMsPerInput: number }

export const FUZZ_FIGURES_FILE_ENV = 'AQUAWATCH_FUZZ_FIGURES';

export class FuzzFigureCounter {
  private inputs = 0;
  private failedProperties = 0;
  private maxMs = 0;

  /** An input about to be parsed (counted even when its parser throws). */
  input(): void {
    this.inputs++;
  }

  /** The time one input took. */
  took(ms: number): void {
    if (ms > this.maxMs) this.maxMs = ms;
  }

  propertyFailed(): void {
    this.failedProperties++;
  }

  /** Print the figures; append them to the file the bench named, if it named one. */
  report(): FuzzFigures {
    const figures = { inputs: this.inputs, failedProperties: this.failedProperties, maxMsPerInput: Number(this.maxMs.toFixed(2)) };
    console.log(JSON.stringify({ 'fuzz.inputs': figures.inputs, 'fuzz.crashes': figures.failedProperties, 'fuzz.max_ms_per_input': figures.maxMsPerInput }));
    const file = process.env[FUZZ_FIGURES_FILE_ENV];
    if (file) appendFileSync(file, `${JSON.stringify(figures)}\n`);
    return figures;
  }
}
