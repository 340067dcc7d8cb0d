/**
 * Compensation statements (issue #14.3), for customer service: pick a period and a customer (account)
 * or an area; see each incident that affected the customer with its minutes, whether it is excluded
 * and why, the minutes paid and the amount, and the totals; export CSV or open the printable page.
 * `#/compensation/<account>` opens a customer's statement (the customer page links here).
 */
import { useState } from 'preact/hooks';
import { apiUrl } from '../api.ts';
import { t, tCode } from '../i18n.ts';
import { fmtNum, fmtShort, fromLocalInput } from '../format.ts';
import { useApi, useNetworkMap } from '../hooks.ts';
import { useRouteParam } from '../router.ts';
import type { AreaStatement, CompensationLine, CompensationRules, CustomerStatement } from '../../../contract/index.ts';

type Subject = { customer: string } | { dma: string };
const value = (e: Event) => (e.target as HTMLInputElement).value;
/** Amounts to the cent, as on a bill. */
const money = (v: number) => v.toFixed(2);

export function CompensationView() {
  const param = useRouteParam();
  const rules = useApi<CompensationRules>('/compensation/rules').data;
  const map = useNetworkMap();
  const [mode, setMode] = useState<'customer' | 'area'>('customer');
  const [customer, setCustomer] = useState(param ?? '');
  const [dma, setDma] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [asked, setAsked] = useState<{ subject: Subject; from?: number; to?: number } | null>(param ? { subject: { customer: param } } : null);
  const compute = (e: Event) => {
    e.preventDefault();
    const subject: Subject = mode === 'customer' ? { customer: customer.trim() } : { dma };
    setAsked({ subject, from: from ? fromLocalInput(from) : undefined, to: to ? fromLocalInput(to) : undefined });
  };
  const ready = mode === 'customer' ? customer.trim() !== '' : dma !== '';

  return (
    <div class="compensation-view">
      <section class="card no-print">
        <h2>{t('comp.title')}</h2>
        {rules && <RulesLine rules={rules} />}
        <form class="row wrap" data-testid="compensation-form" onSubmit={compute}>
          <label class="check"><input type="radio" name="subject" value="customer" checked={mode === 'customer'} onChange={() => setMode('customer')} />{t('comp.byCustomer')}</label>
          <label class="check"><input type="radio" name="subject" value="area" checked={mode === 'area'} onChange={() => setMode('area')} />{t('comp.byArea')}</label>
          {mode === 'customer'
            ? <label>{t('complaints.customer')}<input name="customer" value={customer} onInput={(e) => setCustomer(value(e))} /></label>
            : <label>{t('cs.area')}<select name="dma" value={dma} onChange={(e) => setDma(value(e))}>
              <option value="">—</option>{(map?.dmas ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}</select></label>}
          <label>{t('history.from')}<input type="datetime-local" name="from" value={from} onInput={(e) => setFrom(value(e))} /></label>
          <label>{t('history.to')}<input type="datetime-local" name="to" value={to} onInput={(e) => setTo(value(e))} /></label>
          <span class="muted">{t('comp.periodHint')}</span>
          <button type="submit" data-action="compute-statement" disabled={!ready || (from === '') !== (to === '')}>{t('comp.compute')}</button>
        </form>
      </section>
      {asked && ('customer' in asked.subject
        ? <CustomerResult key={JSON.stringify(asked)} customer={asked.subject.customer} from={asked.from} to={asked.to} />
        : <AreaResult key={JSON.stringify(asked)} dma={asked.subject.dma} from={asked.from} to={asked.to} />)}
    </div>
  );
}

function RulesLine({ rules }: { rules: CompensationRules }) {
  const rate = (r: { amount: number; per: 'minute' | 'hour' }) => `${fmtNum(r.amount, 2)} ${rules.currency}/${tCode('comp.per', r.per)}`;
  return (
    <p class="muted" data-testid="compensation-rules">
      {t('comp.rules', {
        outage: rate(rules.outage.rate), outageMin: rules.outage.minimumMinutes,
        low: rate(rules.lowPressure.rate), lowMin: rules.lowPressure.minimumMinutes,
        excluded: rules.excludeCauses.map((c) => tCode('cause', c)).join(', ') || '—',
      })}
      {rules.plannedWithNotice && ` ${t('comp.plannedRule', { hours: rules.plannedWithNotice.noticeHours, rate: rate(rules.plannedWithNotice.rate) })}`}
    </p>
  );
}

/** Export links for the same question: CSV and the printable page. */
function Exports({ query }: { query: Record<string, string | number | undefined> }) {
  return (
    <div class="row no-print">
      <a class="button small" href={apiUrl('/compensation/statement.csv', query)} download data-action="statement-csv">{t('reports.csv')}</a>
      <a class="button small" href={apiUrl('/compensation/statement.html', query)} target="_blank" rel="noopener" data-action="statement-print">{t('comp.printable')}</a>
    </div>
  );
}

function CustomerResult(props: { customer: string; from?: number; to?: number }) {
  const query = { customer: props.customer, from: props.from, to: props.to };
  const r = useApi<CustomerStatement>('/compensation/customer', query);
  if (r.error) return <section class="card"><p class="error">{r.error}</p></section>;
  if (!r.data) return <section class="card"><p class="muted">{t('app.loading')}</p></section>;
  return <section class="card"><Exports query={query} /><Statement s={r.data} /></section>;
}

function AreaResult(props: { dma: string; from?: number; to?: number }) {
  const query = { dma: props.dma, from: props.from, to: props.to };
  const r = useApi<AreaStatement>('/compensation/area', query);
  if (r.error) return <section class="card"><p class="error">{r.error}</p></section>;
  const a = r.data;
  if (!a) return <section class="card"><p class="muted">{t('app.loading')}</p></section>;
  return (
    <section class="card" data-testid="area-statement" data-amount={a.totals.amount}>
      <Exports query={query} />
      <h2>{t('comp.areaTotals', { area: a.dma, customers: a.totals.customers, affected: a.totals.affectedCustomers })} · {money(a.totals.amount)} {a.currency}</h2>
      {a.statements.filter((s) => s.lines.length).map((s) => <Statement key={s.customer} s={s} />)}
    </section>
  );
}

function Statement({ s }: { s: CustomerStatement }) {
  return (
    <article class="statement" data-testid="statement" data-customer={s.customer} data-amount={s.totals.amount}>
      <h3>{s.customer}{s.address ? ` · ${s.address}` : ''}</h3>
      <p class="muted">{fmtShort(s.from)} – {fmtShort(s.to)} · {t('comp.meters')}: {s.meters.map((m) => m.id).join(', ')}</p>
      <table class="data">
        <thead><tr>
          <th>{t('complaints.incident')}</th><th>{t('comp.basis')}</th><th>{t('cs.start')}</th><th>{t('cs.end')}</th><th>{t('cs.cause')}</th>
          <th>{t('comp.minutes')}</th><th>{t('comp.notPaid')}</th><th>{t('comp.paidMinutes')}</th><th>{t('comp.ratePerHour')}</th><th>{t('comp.amount')}</th>
        </tr></thead>
        <tbody>
          {s.lines.map((l) => (
            <tr key={l.incidentId} data-incident={l.incidentId} data-excluded={l.excluded ? 'yes' : 'no'} class={l.excluded ? 'muted' : ''}>
              <td>{l.dma}{l.partial && <small class="muted"> {t('inc.partial')}</small>}</td><td>{tCode('comp.basisOf', l.basis)}</td>
              <td>{fmtShort(l.start)}</td><td>{l.end !== undefined ? fmtShort(l.end) : t('inc.ongoing')}</td><td>{tCode('cause', l.cause)}</td>
              <td class="num">{fmtNum(l.minutes, 0)}</td><td>{whyNotPaid(l)}</td><td class="num">{fmtNum(l.paidMinutes, 0)}</td>
              <td class="num">{fmtNum(l.ratePerHour, 2)}</td><td class="num">{money(l.amount)}</td>
            </tr>
          ))}
          {!s.lines.length && <tr><td colSpan={10} class="muted">{t('comp.none')}</td></tr>}
        </tbody>
        <tfoot><tr>
          <td colSpan={5}>{t('comp.total')}</td><td class="num">{fmtNum(s.totals.affectedMinutes, 0)}</td>
          <td>{s.totals.excludedMinutes > 0 ? t('comp.excludedMinutes', { n: fmtNum(s.totals.excludedMinutes, 0) }) : ''}</td>
          <td class="num">{fmtNum(s.totals.paidOutageMinutes + s.totals.paidLowPressureMinutes, 0)}</td><td></td>
          <td class="num" data-testid="statement-amount"><b>{money(s.totals.amount)} {s.currency}</b></td>
        </tr></tfoot>
      </table>
    </article>
  );
}

function whyNotPaid(l: CompensationLine): string {
  if (l.excluded) return t('comp.excluded', { cause: tCode('cause', l.cause) });
  const parts: string[] = [];
  if (l.minimumMinutes > 0) parts.push(t('comp.minimum', { n: fmtNum(l.minimumMinutes, 0) }));
  if (l.overlapMinutes > 0) parts.push(t('comp.overlap', { n: fmtNum(l.overlapMinutes, 0) }));
  return parts.join('; ') || '—';
}
