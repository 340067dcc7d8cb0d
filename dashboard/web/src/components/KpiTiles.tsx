/** Live KPI tiles (GET /kpis/summary, room `kpis`). */
import { t } from '../i18n.ts';
import { fmtNum } from '../format.ts';
import type { KpiSummary } from '../../../contract/index.ts';

export function KpiTiles({ kpis }: { kpis: KpiSummary | undefined }) {
  const p = kpis?.alarmsByPriority;
  return (
    <section class="kpi-tiles" data-testid="kpi-tiles" data-ready={kpis ? 'yes' : 'no'}>
      <div class="tile alarms-tile">
        <span class="tile-label">{t('kpi.activeAlarms')}</span>
        <div class="prio-row">
          {(['critical', 'high', 'medium', 'low'] as const).map((k) => (
            <span key={k} class={`prio prio-${k}`} title={t(`priority.${k}`)}>
              <b>{p ? p[k] : '—'}</b><small>{t(`priority.${k}`)}</small>
            </span>
          ))}
        </div>
      </div>
      <Tile label={t('kpi.areasWithoutWater')} value={fmtNum(kpis?.areasWithoutWater, 0)} alert={(kpis?.areasWithoutWater ?? 0) > 0} id="areas" />
      <Tile label={t('kpi.customersWithoutWater')} value={fmtNum(kpis?.customersWithoutWater, 0)} alert={(kpis?.customersWithoutWater ?? 0) > 0} id="customers" />
      <Tile label={t('kpi.totalInflow')} value={fmtNum(kpis?.totalInflowM3h, 0)} unit="m³/h" id="inflow" />
      <Tile label={t('kpi.qualityCompliance')} value={fmtNum(kpis?.qualityCompliancePct, 1)} unit="%" alert={kpis?.qualityCompliancePct != null && kpis.qualityCompliancePct < 95} id="quality" />
    </section>
  );
}

function Tile(props: { label: string; value: string; unit?: string; alert?: boolean; id: string }) {
  return (
    <div class={`tile ${props.alert ? 'alert' : ''}`} data-kpi={props.id}>
      <span class="tile-label">{props.label}</span>
      <span class="tile-value">{props.value}{props.unit && <small> {props.unit}</small>}</span>
    </div>
  );
}
