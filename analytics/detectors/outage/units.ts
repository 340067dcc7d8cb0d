/** Time units and rounding shared by the outage detector's parts. */
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
