/** The sensor catalogue with health (stale, bad quality, flatline…) and the last value. */
import { useState } from 'preact/hooks';
import { t, tCode } from '../i18n.ts';
import { fmtNum, fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { SensorInfo } from '../../../contract/index.ts';

export function SensorsView() {
  const r = useApi<SensorInfo[]>('/sensors');
  const [kind, setKind] = useState('');
  const [health, setHealth] = useState('');
  const [text, setText] = useState('');
  const all = r.data ?? [];
  const kinds = [...new Set(all.map((s) => s.kind))].sort();
  const rows = all.filter((s) => (!kind || s.kind === kind) && (!health || s.health.state === health)
    && (!text || `${s.id} ${s.name} ${s.dma ?? ''} ${s.site}`.toLowerCase().includes(text.toLowerCase())));
  const counts = all.reduce<Record<string, number>>((m, s) => { m[s.health.state] = (m[s.health.state] ?? 0) + 1; return m; }, {});
  return (
    <div class="sensors-view">
      <div class="toolbar">
        <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)} aria-label={t('sensors.kind')}>
          <option value="">{t('sensors.anyKind')}</option>
          {kinds.map((k) => <option key={k} value={k}>{tCode('kind', k)}</option>)}
        </select>
        <select value={health} onChange={(e) => setHealth((e.target as HTMLSelectElement).value)} aria-label={t('sensors.health')}>
          <option value="">{t('sensors.anyHealth')}</option>
          {Object.keys(counts).sort().map((h) => <option key={h} value={h}>{tCode('health', h)} ({counts[h]})</option>)}
        </select>
        <input type="search" placeholder={t('alarms.search')} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="button" class="small ghost" onClick={r.reload}>{t('common.refresh')}</button>
        <span class="muted">{t('sensors.count', { n: rows.length, total: all.length })}</span>
      </div>
      {r.error && <p class="error">{r.error}</p>}
      <table class="data" data-testid="sensors-table">
        <thead><tr><th>{t('sensors.id')}</th><th>{t('sensors.name')}</th><th>{t('sensors.kind')}</th><th>{t('cs.area')}</th><th>{t('sensors.place')}</th>
          <th>{t('sensors.health')}</th><th>{t('sensors.last')}</th><th>{t('sensors.at')}</th></tr></thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.id} data-sensor={s.id} data-health={s.health.state}>
              <td><code>{s.id}</code></td><td>{s.name}</td><td>{tCode('kind', s.kind)}</td><td>{s.dma ?? s.site}</td><td>{tCode('place', s.place)}</td>
              <td><span class={`badge health-${s.health.state}`}>{tCode('health', s.health.state)}</span>{s.health.since && <small class="muted"> {fmtShort(s.health.since)}</small>}</td>
              <td class="num">{s.latest ? <>{fmtNum(s.latest.value, 3)} <small>{s.unit}</small></> : '—'}</td>
              <td>{s.latest ? fmtShort(s.latest.ts) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
