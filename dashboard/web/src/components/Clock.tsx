import { useNow } from '../hooks.ts';
import { fmtDateTime, siteTimeZone } from '../format.ts';

/** The site's current time, so a wall screen shows which zone the times are in. */
export function Clock() {
  const now = useNow(1000);
  return <span class="clock" title={siteTimeZone()}>{fmtDateTime(now)}</span>;
}
