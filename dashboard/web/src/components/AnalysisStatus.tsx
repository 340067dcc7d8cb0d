/**
 * A strip above every view while the analysis does not keep up with live data: a quiet alarm list
 * then does not mean a quiet network. Nothing while it does. Read over REST every 15 s, not from
 * the live channel, so it does not depend on the channel it warns about.
 */
import { useEffect } from 'preact/hooks';
import { useApi } from '../hooks.ts';
import { t } from '../i18n.ts';
import { fmtTime } from '../format.ts';
import type { AnalysisProblem, AnalysisStatus as Status } from '../../../contract/index.ts';

const POLL_MS = 15_000;

function problemText(p: AnalysisProblem): string {
  return p.code === 'bus_lost' ? t('analysis.busLost', { seconds: p.seconds }) : t('analysis.behind', { minutes: p.minutes });
}

export function AnalysisStatus() {
  const status = useApi<Status>('/analysis/status');
  useEffect(() => {
    const timer = setInterval(status.reload, POLL_MS);
    return () => clearInterval(timer);
  }, [status.reload]);
  const s = status.data;
  if (!s || s.status === 'ok') return null;
  return (
    <section class="analysis-status" role="alert" data-testid="analysis-status" data-status={s.status}>
      <b>{t('analysis.title')}</b>
      {s.status === 'not_running'
        ? <span>{t('analysis.notRunning')}</span>
        : s.problems.map((p) => <span key={p.code} data-problem={p.code}>{problemText(p)}</span>)}
      {s.analysedUpTo !== null && <span class="muted">{t('analysis.upTo', { time: fmtTime(s.analysedUpTo) })}</span>}
    </section>
  );
}
