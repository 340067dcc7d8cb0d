/** The newest unacknowledged alarm of the highest priority, the open count, and the sound switch. */
import { useState } from 'preact/hooks';
import { alarmTextOf, t, tCode, alarmTypeOf } from '../i18n.ts';
import { fmtTime } from '../format.ts';
import { setSoundEnabled, soundEnabled } from '../sound.ts';
import { href } from '../router.ts';
import type { AlarmRecord } from '../../../contract/index.ts';

const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };

export function AlarmBanner({ alarms }: { alarms: AlarmRecord[] | undefined }) {
  const [sound, setSound] = useState(soundEnabled());
  const unacked = (alarms ?? []).filter((a) => a.state === 'active-unacknowledged' && !a.shelved && !a.suppressed && !a.parentAlarmId);
  const top = [...unacked].sort((a, b) => (RANK[b.priority] - RANK[a.priority]) || (b.raisedAt - a.raisedAt))[0];
  const toggle = () => { setSoundEnabled(!sound); setSound(!sound); };
  return (
    <section class={`alarm-banner ${top ? `prio-${top.priority}` : 'calm'}`} data-testid="alarm-banner" role="status" aria-live="polite">
      {top ? (
        <a href={href('alarms')} class="banner-text">
          <b>{t('banner.unacked', { n: unacked.length })}</b>
          <span class="badge">{t(`priority.${top.priority}`)}</span>
          <span>{alarmTypeOf(top.type)} · {alarmTextOf(top)}</span>
          <span class="muted">{fmtTime(top.raisedAt)}</span>
        </a>
      ) : <span class="banner-text">{alarms ? t('banner.none') : t('banner.waiting')}</span>}
      <button type="button" class="ghost small" onClick={toggle} aria-pressed={sound} data-action="sound">
        {sound ? t('banner.soundOn') : t('banner.soundOff')}
      </button>
    </section>
  );
}
