import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { usePrincipal } from "../auth";
import { currentMonth, localTime, monthRange, previousMonths } from "../time";
import { ErrorState, Field, FormError, Loading, useAction } from "../ui";

export function MonthsPage() {
  const me = usePrincipal();
  const [customerId, setCustomerId] = useState(me.customers[0]?.id ?? "");
  const customer = me.customers.find((c) => c.id === customerId);
  const tz = customer?.billingTimeZone || "UTC";
  const periods = useQuery({
    queryKey: ["periods", customerId], enabled: !!customerId,
    queryFn: () => ok(api.GET("/v1/customers/{customerId}/periods", { params: { path: { customerId }, query: { pageSize: 1000 } } })),
  });
  const latest = (periods.data?.closedPeriods ?? []).map((p) => p.month ?? "").sort().at(-1);
  return (
    <section aria-labelledby="months-h">
      <h1 id="months-h">Months</h1>
      <div className="toolbar">
        <label>Customer{" "}
          <select value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
            {me.customers.map((c) => <option key={c.id} value={c.id}>{c.displayName || c.id}</option>)}
          </select>
        </label>
      </div>
      <ErrorState error={periods.error} />
      {periods.isPending && customerId && <Loading what="closed months" />}
      <h2>Closed months</h2>
      {periods.data && (periods.data.closedPeriods ?? []).length === 0 && <p>No closed month: every month of {customerId} is open.</p>}
      {periods.data && (periods.data.closedPeriods ?? []).length > 0 && (
        <table>
          <thead><tr><th scope="col">Month</th><th scope="col">Closed</th><th scope="col">By</th><th scope="col">Totals</th><th scope="col">Late records since</th></tr></thead>
          <tbody>
            {(periods.data.closedPeriods ?? []).map((p) => (
              <tr key={p.month}>
                <td>{p.month}</td><td>{localTime(p.closeTime, tz)}</td><td>{p.closedBy}</td>
                <td className="num">{(p.totals ?? []).map((t) => `${t.amount} ${t.currency}`).join(", ")}</td>
                <td className="num">{p.lateUsageRecords}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">Usage or price changes that touch a closed month become adjustment lines in the next open month.</p>
      {customerId && latest && <Adjustments customerId={customerId} tz={tz} month={nextMonth(latest)} />}
      {customerId && <PeriodForm customerId={customerId} defaultMonth={previousMonths(currentMonth(tz), 1)[0]} />}
    </section>
  );
}

function PeriodForm({ customerId, defaultMonth }: { customerId: string; defaultMonth: string }) {
  const qc = useQueryClient();
  const a = useAction();
  const [month, setMonth] = useState(defaultMonth);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState("");
  function act(kind: "close" | "reopen") {
    return (e?: FormEvent) => {
      e?.preventDefault();
      a.run(async () => {
        const path = { customerId, month };
        if (kind === "close") await ok(api.POST("/v1/customers/{customerId}/periods/{month}:close", { params: { path }, body: {} }));
        else await ok(api.POST("/v1/customers/{customerId}/periods/{month}:reopen", { params: { path }, body: { reason } }));
        await qc.invalidateQueries({ queryKey: ["periods", customerId] });
        setDone(`${month} ${kind === "close" ? "closed" : "reopened"}.`);
      });
    };
  }
  return (
    <form className="card" onSubmit={act("close")} aria-labelledby="period-form-h">
      <h2 id="period-form-h">Close or reopen a month of {customerId}</h2>
      <Field label="Month" error={a.fieldError("month")}>{(f) => <input id={f.id} type="month" value={month} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setMonth(e.target.value)} />}</Field>
      <Field label="Reason (for reopening; kept in the audit trail)" error={a.fieldError("reason")}>{(f) => <input id={f.id} value={reason} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setReason(e.target.value)} />}</Field>
      <button type="submit" disabled={a.busy}>Close month</button>{" "}
      <button type="button" disabled={a.busy} onClick={() => act("reopen")()}>Reopen month</button>
      <FormError error={a.error} />
      <p aria-live="polite">{done}</p>
    </form>
  );
}

/** Adjustments lists the adjustment lines booked in month: corrections of
 *  closed months, with the month each corrects. */
function Adjustments({ customerId, tz, month }: { customerId: string; tz: string; month: string }) {
  const { start, end } = monthRange(month, tz);
  const lines = useQuery({
    queryKey: ["adjustments", customerId, month],
    queryFn: () => ok(api.GET("/v1/billing:query", { params: { query: {
      "query.customerIds": [customerId], "query.startTime": start, "query.endTime": end,
      "query.groupBy": ["GROUP_BY_PRODUCT", "GROUP_BY_MODEL"], pageSize: 1000,
    } } })),
  });
  const adj = (lines.data?.lines ?? []).filter((l) => l.model === "BILLING_MODEL_ADJUSTMENT");
  return (
    <>
      <h2>Adjustment lines in {month}</h2>
      <ErrorState error={lines.error} />
      {lines.data && adj.length === 0 && <p>None: no late usage or price change touched a closed month.</p>}
      {adj.length > 0 && (
        <table>
          <thead><tr><th scope="col">Product</th><th scope="col">Corrects</th><th scope="col">Cause</th><th scope="col">Quantity</th><th scope="col">Amount</th></tr></thead>
          <tbody>{adj.map((l, i) => (
            <tr key={i}><td>{l.productId}</td><td>{l.adjustedMonth}</td><td>{(l.adjustmentCause ?? "").replace("ADJUSTMENT_CAUSE_", "").toLowerCase().replace("_", " ")}</td>
              <td className="num">{l.quantity} {l.unit}</td><td className="num">{l.amount} {l.currency}</td></tr>
          ))}</tbody>
        </table>
      )}
      <p><Link to={`/bills?customer=${encodeURIComponent(customerId)}&month=${month}`}>The whole bill of {month}</Link></p>
    </>
  );
}

function nextMonth(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
}
