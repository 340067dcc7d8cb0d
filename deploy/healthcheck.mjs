// The image's HEALTHCHECK: GET $AQUAWATCH_HEALTH_URL (default: the all-in-one `start` on
// http://127.0.0.1:8080/health); healthy on HTTP 200. An https URL is verified against
// $AQUAWATCH_HEALTH_CA (the deployment's internal CA, deploy/init/certificates.sh) when it is set.
// Plain JavaScript with no imports of the project: it runs every few seconds and must start fast.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const url = new URL(process.env.AQUAWATCH_HEALTH_URL ?? 'http://127.0.0.1:8080/health');
const ca = process.env.AQUAWATCH_HEALTH_CA ? readFileSync(process.env.AQUAWATCH_HEALTH_CA) : undefined;
const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
const req = request(url, { method: 'GET', timeout: 4000, ca }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => { console.error(`health check ${url.href}: ${e.message}`); process.exit(1); });
req.end();
