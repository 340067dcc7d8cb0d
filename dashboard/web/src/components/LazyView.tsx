/** Views other than the control room load on first visit, keeping the initial JS small. */
import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { ROUTES, type Route } from '../router.ts';
import { t } from '../i18n.ts';
import { useSession } from '../session.ts';

const loaders: Record<Exclude<Route, 'control'>, () => Promise<ComponentType>> = {
  alarms: () => import('../views/Alarms.tsx').then((m) => m.AlarmsView),
  maintenance: () => import('../views/Maintenance.tsx').then((m) => m.MaintenanceView),
  customers: () => import('../views/CustomerService.tsx').then((m) => m.CustomerServiceView),
  complaints: () => import('../views/Complaints.tsx').then((m) => m.ComplaintsView),
  compensation: () => import('../views/Compensation.tsx').then((m) => m.CompensationView),
  incidents: () => import('../views/Incidents.tsx').then((m) => m.IncidentsView),
  reports: () => import('../views/Reports.tsx').then((m) => m.ReportsView),
  disclosure: () => import('../views/Disclosure.tsx').then((m) => m.DisclosureView),
  sensors: () => import('../views/Sensors.tsx').then((m) => m.SensorsView),
  admin: () => import('../views/Admin.tsx').then((m) => m.AdminView),
};

export function LazyView({ route }: { route: Exclude<Route, 'control'> }) {
  const [loaded, setLoaded] = useState<{ route: Route; View: ComponentType } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { user } = useSession();
  useEffect(() => {
    let live = true;
    loaders[route]().then((View) => { if (live) setLoaded({ route, View }); }, (e: Error) => setError(e.message));
    return () => { live = false; };
  }, [route]);
  const needs = ROUTES.find((r) => r.id === route)?.needs;
  if (needs && !user.permissions.includes(needs)) return <p class="notice">{t('app.forbidden')}</p>;
  if (error) return <p class="error">{error}</p>;
  if (!loaded || loaded.route !== route) return <p class="muted">{t('app.loading')}</p>;
  return <loaded.View />;
}
