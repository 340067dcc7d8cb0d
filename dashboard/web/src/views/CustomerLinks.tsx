/** Links to customers' pages (`#/customers/<account>`), for the views that list meters: an incident's affected part. */
import { t } from '../i18n.ts';
import { customerHref } from '../router.ts';
import { useCan } from '../session.ts';

const MAX_LINKS = 50;

/** Links to the pages of the customers of some meters (an incident's affected part); the first 50, then how many more. */
export function CustomerLinks({ meters }: { meters: { id: string; customer: string }[] }) {
  const accounts = [...new Set(meters.map((m) => m.customer))];
  // the customer's page is refused without customers.read: the account as text, not a link to a refusal
  const readsCustomers = useCan('customers.read');
  if (!accounts.length) return <span class="muted">—</span>;
  return (
    <span class="customer-links">
      {accounts.slice(0, MAX_LINKS).map((a) => readsCustomers ? <a key={a} href={customerHref(a)} data-customer={a}>{a} </a> : <span key={a} data-customer={a}>{a} </span>)}
      {accounts.length > MAX_LINKS && <span class="muted">{t('cust.more', { n: accounts.length - MAX_LINKS })}</span>}
    </span>
  );
}
