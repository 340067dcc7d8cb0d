import type { Lang } from '../i18n.ts';
import { t } from '../i18n.ts';

/** zh-CN / en, remembered in localStorage by `setLang`. */
export function LanguageSwitch({ lang, onLang }: { lang: Lang; onLang: (l: Lang) => void }) {
  return (
    <label class="lang-switch">
      <span class="sr-only">{t('header.language')}</span>
      <select value={lang} onChange={(e) => onLang((e.target as HTMLSelectElement).value as Lang)} data-testid="lang-switch">
        <option value="zh-CN">中文</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}
