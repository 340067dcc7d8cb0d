/**
 * The complaints of one customer (account) and a link to their compensation statement, for the page
 * per customer (CustomerPage.tsx). The link shows only to roles that may read statements.
 */
import { t, tCode } from '../i18n.ts';
import { fmtShort } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useCan } from '../session.ts';
import { compensationHref, href } from '../router.ts';
import type { Complaint } from '../../../contract/index.ts';

export function CustomerComplaints({ account }: { account: string }) {
  const list = useApi<Complaint[]>('/complaints', { customer: account });
  const canReadStatements = useCan('compensation.read');
  return (
    <section class="card" data-testid="customer-complaints">
      <div class="row between">
        <h2>{t('complaints.ofCustomer')}</h2>
        <div class="row">
          <a class="button ghost small" href={href('complaints')}>{t('complaints.title')}</a>
          {canReadStatements && <a class="button small" href={compensationHref(account)} data-action="customer-statement">{t('comp.statementLink')}</a>}
        </div>
      </div>
      {list.error && <p class="error">{list.error}</p>}
      {list.data && !list.data.length && <p class="muted">{t('complaints.noneForCustomer')}</p>}
      {!!list.data?.length && (
        <table class="data">
          <thead><tr><th>{t('complaints.id')}</th><th>{t('complaints.received')}</th><th>{t('complaints.category')}</th><th>{t('complaints.text')}</th><th>{t('complaints.status')}</th></tr></thead>
          <tbody>{list.data.map((c) => (
            <tr key={c.id} data-complaint={c.id}><td>{c.id}</td><td>{fmtShort(c.receivedAt)}</td><td>{tCode('complaints.cat', c.category)}</td>
              <td>{c.text}</td><td>{tCode('complaints.state', c.status)}{c.resolution ? ` · ${c.resolution}` : ''}</td></tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
