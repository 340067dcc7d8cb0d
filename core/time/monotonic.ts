/**
 * The process's monotonic clock, in ms from an arbitrary origin: for durations measured inside one
 * process (how long a source has been silent, a sign-in window, how long since the last input).
 * The wall clock (Date.now) can step forwards or backwards at any time (NTP correcting a drift, an
 * RTC fixed at boot, an operator setting the time), and a duration taken as the difference of two
 * wall times would jump with it (review finding F17). Not for times stored or shown: it means
 * nothing outside the process and restarts from zero with it.
 */
export const monotonicMs = (): number => performance.now();
