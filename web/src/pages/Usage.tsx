import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import { usePrincipal } from "../auth";
import { currentMonth, previousMonths } from "../time";
import { ErrorState, Loading } from "../ui";

export function UsagePage() {
  const me = usePrincipal();
  const [customerId, setCustomerId] = useState(me.admin ? "" : me.customers[0]?.id ?? "");
  const tz = me.customers.find((c) => c.id === customerId)?.billingTimeZone || "UTC";
  const now = currentMonth(tz);
  const months = [...previousMonths(now, 5), now];
  const stats = useQuery({
    queryKey: ["stats", customerId, months],
    queryFn: () => Promise.all(months.map((month) => ok(api.GET("/v1/billing:stats", { params: { query: { month, customerId: customerId || undefined } } })))),
  });
  return (
    <section aria-labelledby="usage-h">
      <h1 id="usage-h">Usage and stats</h1>
      <div className="toolbar">
        <label>Customer{" "}
          <select value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
            {me.admin && <option value="">All customers</option>}
            {me.customers.map((c) => <option key={c.id} value={c.id}>{c.displayName || c.id}</option>)}
          </select>
        </label>
      </div>
      <ErrorState error={stats.error} />
      {stats.isPending && <Loading what="stats" />}
      {stats.data && (
        <table>
          <caption>Per month: billing results = product atoms × products rated, the figure providers are charged by.</caption>
          <thead><tr><th scope="col">Month</th><th scope="col">Usage records</th><th scope="col">Product atoms</th><th scope="col">Products rated</th><th scope="col">Billing results</th><th scope="col">Customers</th></tr></thead>
          <tbody>
            {stats.data.map((s) => (
              <tr key={s.month}><td>{s.month}</td><td className="num">{s.usageRecords}</td><td className="num">{s.productAtoms}</td><td className="num">{s.productsRated}</td><td className="num">{s.billingResults}</td><td className="num">{s.customers}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">Late records of closed months are counted under Months; records refused at ingestion are answered to the collector that sent them and are not stored, so no API lists them.</p>
    </section>
  );
}
