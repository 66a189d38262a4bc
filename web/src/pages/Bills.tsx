import { useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { api, download, ok, type Schemas } from "../api/client";
import { usePrincipal } from "../auth";
import { currentMonth, localDay, localTime, monthRange, previousMonths } from "../time";
import { enumLabel, ErrorState, Loading } from "../ui";
import { StackedBars } from "../chart";

type GroupBy = Schemas["v1GroupBy"];
type Granularity = Schemas["v1Granularity"];
type Line = Schemas["v1BillingLine"];

const groupLevels: [GroupBy, string][] = [
  ["GROUP_BY_ORGANISATION", "organisation"], ["GROUP_BY_VDC", "VDC"], ["GROUP_BY_SITE", "site"],
  ["GROUP_BY_RESOURCE", "resource"], ["GROUP_BY_PRODUCT_GROUP", "product group"], ["GROUP_BY_PRODUCT", "product"],
];
const granularities: [Granularity, string][] = [
  ["GRANULARITY_PERIOD", "whole month"], ["GRANULARITY_DAY", "day"], ["GRANULARITY_HOUR", "hour"],
];
const formats = ["csv", "xlsx", "pdf", "json", "xml"] as const;
const groupParam: Record<string, string> = {
  GROUP_BY_CUSTOMER: "customer", GROUP_BY_ORGANISATION: "organisation", GROUP_BY_VDC: "vdc", GROUP_BY_SITE: "site",
  GROUP_BY_RESOURCE: "resource", GROUP_BY_PRODUCT_GROUP: "product_group", GROUP_BY_PRODUCT: "product", GROUP_BY_MODEL: "model",
};

type Query = { customer: string; tz: string; month: string; groupBy: GroupBy[]; granularity: Granularity };

/** fetchBill reads every page of QueryBilling; totals come from the API, whole-result. */
async function fetchBill(q: Query) {
  const { start, end } = monthRange(q.month, q.tz);
  const lines: Line[] = [];
  let first: Schemas["v1QueryBillingResponse"] | undefined;
  let pageToken: string | undefined;
  do {
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: {
        "query.customerIds": [q.customer], "query.startTime": start, "query.endTime": end,
        "query.granularity": q.granularity, "query.groupBy": ["GROUP_BY_CUSTOMER", ...q.groupBy, "GROUP_BY_MODEL"],
        pageSize: 10000, pageToken, // QueryBilling's largest page
      } },
    }));
    first ??= page;
    lines.push(...(page.lines ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  performance.mark("bill-data"); // the browser test reports render time from here
  return { lines, totals: first?.totals ?? [], unpriced: first?.unpricedUsage ?? [], start, end };
}

/** fetchDaily is cost per product per local day, for the chart. */
async function fetchDaily(q: Query) {
  const { start, end } = monthRange(q.month, q.tz);
  const lines: Line[] = [];
  let pageToken: string | undefined;
  do {
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: {
        "query.customerIds": [q.customer], "query.startTime": start, "query.endTime": end,
        "query.granularity": "GRANULARITY_DAY", "query.groupBy": ["GROUP_BY_PRODUCT"], pageSize: 10000, pageToken,
      } },
    }));
    lines.push(...(page.lines ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return lines;
}

/** fetchMonths is cost per product for month and the three before it, each
 *  in the customer's own time zone, for the side-by-side chart. */
async function fetchMonths(q: Query) {
  const months = [...previousMonths(q.month, 3), q.month];
  const results = await Promise.all(months.map(async (month) => {
    const { start, end } = monthRange(month, q.tz);
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: { "query.customerIds": [q.customer], "query.startTime": start, "query.endTime": end, "query.groupBy": ["GROUP_BY_PRODUCT"], pageSize: 10000 } },
    }));
    return page.lines ?? [];
  }));
  const products = [...new Set(results.flat().map((l) => l.productId ?? ""))].sort();
  const series = products.map((p) => ({
    label: p,
    values: results.map((lines) => lines.filter((l) => l.productId === p).reduce((s, l) => s + Number(l.amount ?? 0), 0)),
  }));
  return { months, series };
}

export function BillsPage() {
  const me = usePrincipal();
  const [params, setParams] = useSearchParams();
  const customerId = params.get("customer") || me.customers[0]?.id || "";
  const customer = me.customers.find((c) => c.id === customerId);
  const tz = customer?.billingTimeZone || "UTC";
  const month = params.get("month") || currentMonth(tz);
  const groupBy = (params.get("group") ?? "GROUP_BY_PRODUCT").split(",").filter(Boolean) as GroupBy[];
  const granularity = (params.get("granularity") || "GRANULARITY_PERIOD") as Granularity;
  const q: Query = { customer: customerId, tz, month, groupBy, granularity };
  const set = (k: string, v: string) => setParams((p) => { p.set(k, v); return p; });

  const bill = useQuery({ queryKey: ["bill", q], queryFn: () => fetchBill(q), enabled: !!customerId });
  const daily = useQuery({ queryKey: ["daily", q.customer, q.month, tz], queryFn: () => fetchDaily(q), enabled: !!customerId && !bill.isError });
  const history = useQuery({ queryKey: ["months", q.customer, q.month, tz], queryFn: () => fetchMonths(q), enabled: !!customerId && !bill.isError });
  const [downloadState, setDownloadState] = useState("");
  useEffect(() => { if (bill.data) performance.mark("bill-rendered"); }, [bill.data]);

  async function save(format: (typeof formats)[number]) {
    const { start, end } = monthRange(month, tz);
    const p = new URLSearchParams({ customer: customerId, from: start, to: end, format });
    for (const g of ["GROUP_BY_CUSTOMER", ...groupBy]) p.append("group_by", groupParam[g]);
    if (granularity !== "GRANULARITY_PERIOD") p.set("granularity", enumLabel(granularity, "GRANULARITY_"));
    setDownloadState(`Preparing ${format.toUpperCase()}…`);
    try {
      setDownloadState(`Downloaded ${await download(p)}`);
    } catch (e) {
      setDownloadState(`Download failed: ${(e as Error).message}`);
    }
  }

  return (
    <section aria-labelledby="bills-h">
      <h1 id="bills-h">Bills</h1>
      <form className="toolbar" onSubmit={(e) => e.preventDefault()}>
        <label>Customer{" "}
          <select value={customerId} onChange={(e) => set("customer", e.target.value)}>
            {!customer && customerId && <option value={customerId}>{customerId}</option>}
            {me.customers.map((c) => <option key={c.id} value={c.id}>{c.displayName || c.id}</option>)}
          </select>
        </label>
        <label>Month ({tz}){" "}
          <input type="month" value={month} onChange={(e) => e.target.value && set("month", e.target.value)} />
        </label>
        <label>Lines per{" "}
          <select value={granularity} onChange={(e) => set("granularity", e.target.value)}>
            {granularities.map(([g, l]) => <option key={g} value={g}>{l}</option>)}
          </select>
        </label>
        <fieldset className="groupby">
          <legend>Group by</legend>
          {groupLevels.map(([g, l]) => (
            <label key={g}>
              <input type="checkbox" checked={groupBy.includes(g)} onChange={(e) => {
                const next = e.target.checked ? [...groupBy, g] : groupBy.filter((x) => x !== g);
                set("group", groupLevels.map(([x]) => x).filter((x) => next.includes(x)).join(","));
              }} /> {l}
            </label>
          ))}
        </fieldset>
      </form>

      {!customerId && <p>No customer to show.</p>}
      {bill.isError && <ErrorState error={bill.error} />}
      {bill.isPending && customerId && <Loading what="the bill" />}
      {bill.data && (
        <>
          <div className="totals" aria-label="Totals">
            {bill.data.totals.length === 0 && <p>No billed usage in {month}.</p>}
            {bill.data.totals.map((t) => (
              <p key={t.currency} className="total">
                Total <output data-testid="bill-total" data-currency={t.currency}>{t.amount} {t.currency}</output>
                <span className="muted"> · {t.lineCount} lines</span>
              </p>
            ))}
          </div>
          <div className="downloads" role="group" aria-label="Download the bill">
            {formats.map((f) => <button key={f} type="button" onClick={() => save(f)}>{f.toUpperCase()}</button>)}
            <span aria-live="polite" className="muted" data-testid="download-state">{downloadState}</span>
          </div>
          <h2>Cost per product per day</h2>
          {daily.data ? <DailyChart lines={daily.data} tz={tz} products={daily.data} /> : daily.isError ? <ErrorState error={daily.error} /> : <Loading what="the chart" />}
          <h2>This month and the three before it</h2>
          {history.data ? (history.data.series.length > 0
            ? <StackedBars labels={history.data.months} series={history.data.series} title="Cost per product per month" />
            : <p>No costs in these months.</p>) : history.isError ? <ErrorState error={history.error} /> : <Loading what="the months" />}
          {bill.data.unpriced.length > 0 && (
            <>
              <h2>Unpriced usage</h2>
              <table className="unpriced">
                <caption>Usage no price covers: not billed. Named by metric, with the API's reason.</caption>
                <thead><tr><th scope="col">Metric</th><th scope="col">Product</th><th scope="col">Resource</th><th scope="col">Quantity</th><th scope="col">Why</th></tr></thead>
                <tbody>
                  {bill.data.unpriced.map((u, i) => (
                    <tr key={i}>
                      <td><code>{u.metricKey}</code></td><td>{u.productId || "—"}</td><td>{u.resourceId || "—"}</td>
                      <td className="num">{u.quantity}</td><td>{u.description || enumLabel(u.reason, "UNPRICED_REASON_")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h2>Lines</h2>
          <LinesTable lines={bill.data.lines} tz={tz} granularity={granularity} groupBy={groupBy} />
        </>
      )}
    </section>
  );
}

function DailyChart({ lines, tz }: { lines: Line[]; tz: string; products: Line[] }) {
  const data = useMemo(() => {
    const days = [...new Set(lines.map((l) => localDay(l.startTime, tz)))].sort();
    const products = [...new Set(lines.map((l) => l.productId ?? ""))].sort();
    // Amounts are already rounded decimal strings; the chart only draws them.
    const series = products.map((p) => ({
      label: p,
      values: days.map((d) => lines.filter((l) => l.productId === p && localDay(l.startTime, tz) === d)
        .reduce((s, l) => s + Number(l.amount ?? 0), 0)),
    }));
    return { days, series };
  }, [lines, tz]);
  if (data.days.length === 0) return <p>No daily costs.</p>;
  return <StackedBars labels={data.days} series={data.series} title="Cost per product per day (stacked)" />;
}

type SortKey = "description" | "productId" | "model" | "quantity" | "unitPrice" | "amount" | "startTime"
  | "organisationId" | "vdcId" | "site" | "resourceId" | "productGroupId";

// The line field that names each group-by level, shown as a column when chosen.
const levelColumns: [GroupBy, SortKey, string][] = [
  ["GROUP_BY_ORGANISATION", "organisationId", "Organisation"], ["GROUP_BY_VDC", "vdcId", "VDC"], ["GROUP_BY_SITE", "site", "Site"],
  ["GROUP_BY_RESOURCE", "resourceId", "Resource"], ["GROUP_BY_PRODUCT_GROUP", "productGroupId", "Product group"],
];

function LinesTable({ lines, tz, granularity, groupBy }: { lines: Line[]; tz: string; granularity: Granularity; groupBy: GroupBy[] }) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean } | null>(null);
  const rows = useMemo(() => {
    if (!sort) return lines;
    const numeric = sort.key === "quantity" || sort.key === "unitPrice" || sort.key === "amount";
    const cmp = (a: Line, b: Line) => numeric
      ? Number(a[sort.key] ?? 0) - Number(b[sort.key] ?? 0) // ordering only; no sums
      : String(a[sort.key] ?? "").localeCompare(String(b[sort.key] ?? ""));
    return [...lines].sort((a, b) => (sort.desc ? -cmp(a, b) : cmp(a, b)));
  }, [lines, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const rowHeight = 34;
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 10 });
  const items = v.getVirtualItems();
  const top = items[0]?.start ?? 0;
  const bottom = v.getTotalSize() - (items.at(-1)?.end ?? 0);
  const levels = levelColumns.filter(([g]) => groupBy.includes(g));
  const cols: [SortKey, string][] = [
    ["description", "Line"], ...levels.map(([, k, label]): [SortKey, string] => [k, label]), ["productId", "Product"], ["model", "Model"], ["quantity", "Quantity"],
    ["unitPrice", "Unit price"], ["amount", "Amount"], ["startTime", granularity === "GRANULARITY_PERIOD" ? "Period" : "From"],
  ];
  return (
    <div className="table-scroll" ref={scroller} tabIndex={0} role="region" aria-label={`Bill lines, ${rows.length}`} data-testid="lines">
      <table className="lines" aria-rowcount={rows.length + 1}>
        <thead>
          <tr>
            {cols.map(([k, label]) => (
              <th key={k} scope="col" aria-sort={sort?.key === k ? (sort.desc ? "descending" : "ascending") : "none"}>
                <button type="button" onClick={() => setSort((s) => ({ key: k, desc: s?.key === k ? !s.desc : false }))}>{label}</button>
              </th>
            ))}
            <th scope="col">Priced by</th>
          </tr>
        </thead>
        <tbody>
          {top > 0 && <tr aria-hidden="true" style={{ height: top }} />}
          {items.map((it) => {
            const l = rows[it.index];
            return (
              <tr key={it.key} aria-rowindex={it.index + 2} style={{ height: rowHeight }}>
                <td>{l.description}</td>
                {levels.map(([, k]) => <td key={k}>{l[k]}</td>)}
                <td>{l.productId}</td>
                <td>{enumLabel(l.model, "BILLING_MODEL_")}{l.adjustedMonth ? ` (${l.adjustedMonth})` : ""}</td>
                <td className="num">{l.quantity} {l.unit}</td>
                <td className="num">{l.unitPrice}</td>
                <td className="num">{l.amount} {l.currency}</td>
                <td>{granularity === "GRANULARITY_PERIOD" ? localDay(l.startTime, tz) + " – " + localDay(l.endTime, tz) : localTime(l.startTime, tz)}</td>
                <td>{source(l)}</td>
              </tr>
            );
          })}
          {bottom > 0 && <tr aria-hidden="true" style={{ height: bottom }} />}
        </tbody>
      </table>
    </div>
  );
}

function source(l: Line): string {
  if (l.contractId) return `contract ${l.contractId}`;
  if (l.campaignId) return `campaign ${l.campaignId}`;
  if (l.priceId) return `price ${l.priceListId}/${l.priceId}`;
  return "";
}
