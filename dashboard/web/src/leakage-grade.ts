/** CJJ 92-2016's grade of the corrected leakage rate, in words (Reports and Disclosure views; kept apart so the disclosure's chunk carries no charts). */
import { t } from './i18n.ts';
import type { LeakageAssessment } from '../../contract/index.ts';

export function gradeText(grade: LeakageAssessment['grade']): string {
  if (grade === null) return '';
  return grade === 'ungraded' ? t('reports.ungraded') : t('reports.gradeValue', { grade });
}
