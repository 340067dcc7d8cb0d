/** A small inline form for an action that needs a comment or a reason (ack, shelve…). */
import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { t } from '../i18n.ts';

export function ActionForm(props: {
  title: string; submitLabel: string; onSubmit: () => Promise<void>; onCancel: () => void; children: ComponentChildren; testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form class="action-form card" data-testid={props.testId} onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true); setError(null);
      try { await props.onSubmit(); } catch (err) { setError((err as Error).message); } finally { setBusy(false); }
    }}>
      <h3>{props.title}</h3>
      {props.children}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <button type="submit" disabled={busy}>{props.submitLabel}</button>
        <button type="button" class="ghost" onClick={props.onCancel}>{t('common.cancel')}</button>
      </div>
    </form>
  );
}
