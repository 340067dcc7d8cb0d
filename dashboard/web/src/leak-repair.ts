/**
 * A leak repair the night flow confirmed (issue #12.4), as the alarms and maintenance views show it:
 * the drop the detector measured and the day it dates the repair, or, when the detector's clear gave
 * no drop, the leak flow the alarm last measured that the night flow no longer shows (its `dropSource`).
 */
import { t } from './i18n.ts';
import { fmtDate, fmtNum } from './format.ts';
import type { LeakRepair } from '../../contract/index.ts';

export function repairFigure(r: LeakRepair): string {
  return t(r.dropSource === 'night_drop' ? 'repair.nightDrop' : 'repair.leakFlowGone', { drop: fmtNum(r.nightDropM3h, 1), date: fmtDate(r.repairedTs ?? r.seenTs) });
}

/** "repaired: work order WO-…, night flow −X m³/h on …", for an alarm's row. */
export function repairedBadge(r: LeakRepair): string {
  return r.workOrderId ? t('alarms.repairedBadge', { wo: r.workOrderId, figure: repairFigure(r) }) : t('alarms.repairedBadgeNoOrder', { figure: repairFigure(r) });
}
