/** The trends' time range: the last 1 h / 24 h / 7 d (then live), or a custom range in the site's zone. */
import { useState } from 'preact/hooks';
import { t } from '../i18n.ts';
import { fromLocalInput, toLocalInput } from '../format.ts';

export type HistoryRange = { kind: '1h' | '24h' | '7d' } | { kind: 'custom'; from: number; to: number };
export const RANGE_MS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;

export function HistoryControls({ range, onRange }: { range: HistoryRange; onRange: (r: HistoryRange) => void }) {
  const now = Date.now();
  const [from, setFrom] = useState(toLocalInput(range.kind === 'custom' ? range.from : now - 86_400_000));
  const [to, setTo] = useState(toLocalInput(range.kind === 'custom' ? range.to : now));
  const [showCustom, setShowCustom] = useState(range.kind === 'custom');
  const [error, setError] = useState<string | null>(null);
  const apply = () => {
    const f = fromLocalInput(from), tt = fromLocalInput(to);
    if (f === undefined || tt === undefined || f >= tt) { setError(t('history.badRange')); return; }
    setError(null);
    onRange({ kind: 'custom', from: f, to: tt });
  };
  return (
    <div class="history-controls" role="group" aria-label={t('history.range')}>
      {(['1h', '24h', '7d'] as const).map((k) => (
        <button key={k} type="button" class={`small ${range.kind === k ? 'active' : 'ghost'}`} data-range={k}
          onClick={() => { setShowCustom(false); onRange({ kind: k }); }}>{t(`history.${k}`)}</button>
      ))}
      <button type="button" class={`small ${range.kind === 'custom' || showCustom ? 'active' : 'ghost'}`} data-range="custom" onClick={() => setShowCustom(true)}>{t('history.custom')}</button>
      {showCustom && (
        <span class="custom-range">
          <input type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} aria-label={t('history.from')} />
          <span>–</span>
          <input type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} aria-label={t('history.to')} />
          <button type="button" class="small" onClick={apply}>{t('history.apply')}</button>
          {error && <span class="error">{error}</span>}
        </span>
      )}
    </div>
  );
}
