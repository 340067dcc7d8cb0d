/** Hash routes (`#/alarms`), so deep links work whatever the server does with paths. */
import { useEffect, useState } from 'preact/hooks';
import type { Permission } from '../../contract/index.ts';
import type { MessageKey } from './i18n.ts';

export type Route = 'control' | 'alarms' | 'maintenance' | 'customers' | 'complaints' | 'compensation' | 'incidents' | 'reports' | 'disclosure' | 'sensors' | 'admin';
export interface RouteInfo { id: Route; label: MessageKey; needs?: Permission }
export const ROUTES: RouteInfo[] = [
  { id: 'control', label: 'nav.control' },
  { id: 'alarms', label: 'nav.alarms' },
  { id: 'maintenance', label: 'nav.maintenance' },
  { id: 'customers', label: 'nav.customers' },
  { id: 'complaints', label: 'nav.complaints', needs: 'customers.read' },
  { id: 'compensation', label: 'nav.compensation', needs: 'compensation.read' },
  { id: 'incidents', label: 'nav.incidents' },
  { id: 'reports', label: 'nav.reports' },
  { id: 'disclosure', label: 'nav.disclosure', needs: 'disclosure.manage' },
  { id: 'sensors', label: 'nav.sensors' },
  { id: 'admin', label: 'nav.admin', needs: 'users.manage' },
];

function parse(): Route {
  const id = location.hash.replace(/^#\/?/, '').split(/[?/]/)[0];
  return (ROUTES.find((r) => r.id === id)?.id) ?? 'control';
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (r: Route) => `#/${r}`;

/** What follows the view in the hash, decoded (`#/customers/ACC-1` → `ACC-1`); undefined when nothing does. */
function parseParam(): string | undefined {
  const rest = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').slice(1).join('/');
  return rest ? decodeURIComponent(rest) : undefined;
}

export function useRouteParam(): string | undefined {
  const [param, setParam] = useState<string | undefined>(parseParam);
  useEffect(() => {
    const on = () => setParam(parseParam());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return param;
}

/** The page of one customer (account), in the customer-service view. */
export const customerHref = (account: string) => `#/customers/${encodeURIComponent(account)}`;
/** A customer's compensation statement (the current quarter). */
export const compensationHref = (account: string) => `#/compensation/${encodeURIComponent(account)}`;
