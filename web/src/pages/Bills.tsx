import { useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { api, download, ok, type Schemas } from "../api/client";
import { usePrincipal } from "../auth";
import { currentMonth, localDay, localTime, previousMonths } from "../time";
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

/** Query is one bill: customers (empty: all the key may read) over a month
 *  by name, which the API takes as each customer's own month in its billing
 *  time zone, so customers in different zones are each billed their month. */
type Query = { customers: string[]; month: string; groupBy: GroupBy[]; granularity: Granularity };

const billingQuery = (q: Query, month = q.month) => ({ "query.customerIds": q.customers, "query.month": month });

/** fetchBill reads every page of QueryBilling; totals come from the API, whole-result. */
async function fetchBill(q: Query) {
  const lines: Line[] = [];
  let first: Schemas["v1QueryBillingResponse"] | undefined;
  let pageToken: string | undefined;
  do {
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: {
        ...billingQuery(q), "query.granularity": q.granularity, "query.groupBy": ["GROUP_BY_CUSTOMER", ...q.groupBy, "GROUP_BY_MODEL"],
        pageSize: 10000, pageToken, // QueryBilling's largest page
      } },
    }));
    first ??= page;
    lines.push(...(page.lines ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  performance.mark("bill-data"); // the browser test reports render time from here
  return { lines, totals: first?.totals ?? [], unpriced: first?.unpricedUsage ?? [] };
}

/** fetchDaily is cost per product per local day, for the chart. */
async function fetchDaily(q: Query) {
  const lines: Line[] = [];
  let pageToken: string | undefined;
  do {
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: {
        ...billingQuery(q), "query.granularity": "GRANULARITY_DAY", "query.groupBy": ["GROUP_BY_PRODUCT"], pageSize: 10000, pageToken,
      } },
    }));
    lines.push(...(page.lines ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return lines;
}

/** fetchMonths is cost per product for month and the three before it, each
 *  in each customer's own time zone, for the side-by-side chart. */
async function fetchMonths(q: Query) {
  const months = [...previousMonths(q.month, 3), q.month];
  const results = await Promise.all(months.map(async (month) => {
    const page = await ok(api.GET("/v1/billing:query", {
      params: { query: { ...billingQuery(q, month), "query.groupBy": ["GROUP_BY_PRODUCT"], pageSize: 10000 } },
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

const ALL = "*";

export function BillsPage() {
  const me = usePrincipal();
  const [params, setParams] = useSearchParams();
  // customer=acme, customer=acme,globex or customer=* (all the key may read).
  const chosen = (params.get("customer") || me.customers[0]?.id || "").split(",").filter(Boolean);
  const all = chosen.includes(ALL);
  const several = all || chosen.length > 1;
  const customerId = several ? "" : chosen[0] ?? "";
  const customer = me.customers.find((c) => c.id === customerId);
  const tz = customer?.billingTimeZone || "UTC";
  const tzOf = useMemo(() => {
    const zones = new Map(me.customers.map((c) => [c.id ?? "", c.billingTimeZone || "UTC"]));
    return (id?: string) => zones.get(id ?? "") ?? "UTC";
  }, [me.customers]);
  const nameOf = (id?: string) => me.customers.find((c) => c.id === id)?.displayName || id || "";
  const month = params.get("month") || currentMonth(tz);
  const groupBy = (params.get("group") ?? "GROUP_BY_PRODUCT").split(",").filter(Boolean) as GroupBy[];
  const granularity = (params.get("granularity") || "GRANULARITY_PERIOD") as Granularity;
  const q: Query = { customers: all ? [] : chosen, month, groupBy, granularity };
  const set = (k: string, v: string) => setParams((p) => { p.set(k, v); return p; });
  const [picking, setPicking] = useState(chosen.length > 1);

  const enabled = chosen.length > 0;
  const bill = useQuery({ queryKey: ["bill", q], queryFn: () => fetchBill(q), enabled });
  const daily = useQuery({ queryKey: ["daily", q.customers, q.month], queryFn: () => fetchDaily(q), enabled: enabled && !several && !bill.isError });
  const history = useQuery({ queryKey: ["months", q.customers, q.month], queryFn: () => fetchMonths(q), enabled: enabled && !bill.isError });
  const [downloadState, setDownloadState] = useState("");
  useEffect(() => { if (bill.data) performance.mark("bill-rendered"); }, [bill.data]);

  async function save(format: (typeof formats)[number]) {
    const p = new URLSearchParams({ month, format });
    for (const c of q.customers) p.append("customer", c);
    for (const g of ["GROUP_BY_CUSTOMER", ...groupBy]) p.append("group_by", groupParam[g]);
    if (granularity !== "GRANULARITY_PERIOD") p.set("granularity", enumLabel(granularity, "GRANULARITY_"));
    setDownloadState(`Preparing ${format.toUpperCase()}…`);
    try {
      setDownloadState(`Downloaded ${await download(p)}`);
    } catch (e) {
      setDownloadState(`Download failed: ${(e as Error).message}`);
    }
  }

  const selectValue = all ? ALL : several || picking ? "+" : customerId;
  return (
    <section aria-labelledby="bills-h">
      <h1 id="bills-h">Bills</h1>
      <form className="toolbar" onSubmit={(e) => e.preventDefault()}>
        <label>Customer{" "}
          <select value={selectValue} onChange={(e) => {
            const v = e.target.value;
            setPicking(v === "+");
            // Picking several starts from the one shown (from all: the first).
            if (v !== "+") set("customer", v);
            else if (all) set("customer", me.customers[0]?.id ?? "");
          }}>
            {!customer && customerId && <option value={customerId}>{customerId}</option>}
            {me.customers.map((c) => <option key={c.id} value={c.id}>{c.displayName || c.id}</option>)}
            {me.admin && me.customers.length > 1 && <option value={ALL}>All customers</option>}
            {me.admin && me.customers.length > 1 && <option value="+">Several customers…</option>}
          </select>
        </label>
        <label>Month ({several ? "each customer's own" : tz}){" "}
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
      {picking && !all && (
        <fieldset className="customer-pick">
          <legend>Customers on this bill</legend>
          {me.customers.map((c) => (
            <label key={c.id}>
              <input type="checkbox" checked={chosen.includes(c.id ?? "")} onChange={(e) => {
                const next = e.target.checked ? [...chosen, c.id ?? ""] : chosen.filter((x) => x !== c.id);
                // Keep the customers' list order so the URL names one bill one way.
                set("customer", me.customers.map((x) => x.id ?? "").filter((x) => next.includes(x)).join(","));
              }} /> {c.displayName || c.id}
            </label>
          ))}
        </fieldset>
      )}

      {!enabled && <p>No customer to show.</p>}
      {bill.isError && <ErrorState error={bill.error} />}
      {bill.isPending && enabled && <Loading what="the bill" />}
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
          {several ? (
            <p className="muted">The daily chart is per customer: choose one customer to see it. Each customer is billed its own {month} in its billing time zone.</p>
          ) : <h2>Cost per product per day</h2>}
          {several ? null : daily.data ? <DailyChart lines={daily.data} tz={tz} products={daily.data} /> : daily.isError ? <ErrorState error={daily.error} /> : <Loading what="the chart" />}
          <h2>This month and the three before it</h2>
          {history.data ? (history.data.series.length > 0
            ? <StackedBars labels={history.data.months} series={history.data.series} title="Cost per product per month" />
            : <p>No costs in these months.</p>) : history.isError ? <ErrorState error={history.error} /> : <Loading what="the months" />}
          {bill.data.unpriced.length > 0 && (
            <>
              <h2>Unpriced usage</h2>
              <table className="unpriced">
                <caption>Usage no price covers: not billed. Named by metric, with the API's reason.</caption>
                <thead><tr>{several && <th scope="col">Customer</th>}<th scope="col">Metric</th><th scope="col">Product</th><th scope="col">Resource</th><th scope="col">Quantity</th><th scope="col">Why</th></tr></thead>
                <tbody>
                  {bill.data.unpriced.map((u, i) => (
                    <tr key={i}>
                      {several && <td>{nameOf(u.customerId)}</td>}
                      <td><code>{u.metricKey}</code></td><td>{u.productId || "—"}</td><td>{u.resourceId || "—"}</td>
                      <td className="num">{u.quantity}</td><td>{u.description || enumLabel(u.reason, "UNPRICED_REASON_")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h2>Lines</h2>
          <LinesTable lines={bill.data.lines} tzOf={tzOf} granularity={granularity} groupBy={groupBy}
            groups={several ? { nameOf } : undefined} />
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

/** Row is a line, or with several customers, the header of a customer's lines. */
type Row = { line: Line } | { customerId: string; subtotal: string };

/** subtotal is a customer's lines added per currency, exactly: the API's
 *  totals are the exact sums of the rounded line amounts (rating.Totals),
 *  so adding the same decimal strings as integers gives the same figure. */
function subtotal(lines: Line[]): string {
  const byCurrency = new Map<string, string[]>();
  for (const l of lines) byCurrency.set(l.currency ?? "", [...(byCurrency.get(l.currency ?? "") ?? []), l.amount ?? "0"]);
  return [...byCurrency].sort(([a], [b]) => a.localeCompare(b)).map(([c, amounts]) => `${decimalSum(amounts)} ${c}`).join(", ");
}

/** decimalSum adds decimal strings exactly (BigInt at the widest scale). */
export function decimalSum(amounts: string[]): string {
  const scale = Math.max(0, ...amounts.map((a) => (a.split(".")[1] ?? "").length));
  let sum = 0n;
  for (const a of amounts) {
    const neg = a.startsWith("-");
    const [int, frac = ""] = a.replace(/^[-+]/, "").split(".");
    const n = BigInt((int || "0") + frac.padEnd(scale, "0"));
    sum += neg ? -n : n;
  }
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, "0");
  const out = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}

function LinesTable({ lines, tzOf, granularity, groupBy, groups }: {
  lines: Line[]; tzOf: (customerId?: string) => string; granularity: Granularity; groupBy: GroupBy[];
  groups?: { nameOf: (id?: string) => string };
}) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean } | null>(null);
  const grouped = !!groups;
  const rows = useMemo(() => {
    let sorted = lines;
    if (sort) {
      const numeric = sort.key === "quantity" || sort.key === "unitPrice" || sort.key === "amount";
      const cmp = (a: Line, b: Line) => numeric
        ? Number(a[sort.key] ?? 0) - Number(b[sort.key] ?? 0) // ordering only; no sums
        : String(a[sort.key] ?? "").localeCompare(String(b[sort.key] ?? ""));
      sorted = [...lines].sort((a, b) => (sort.desc ? -cmp(a, b) : cmp(a, b)));
    }
    if (!grouped) return sorted.map((line): Row => ({ line }));
    // The sort is stable: each customer's lines keep the chosen order inside its group.
    const byCustomer = [...sorted].sort((a, b) => (a.customerId ?? "").localeCompare(b.customerId ?? ""));
    const perCustomer = new Map<string, Line[]>();
    for (const l of byCustomer) perCustomer.set(l.customerId ?? "", [...(perCustomer.get(l.customerId ?? "") ?? []), l]);
    const out: Row[] = [];
    let head: { customerId: string; subtotal: string } | undefined;
    for (const line of byCustomer) {
      if (head?.customerId !== line.customerId) {
        head = { customerId: line.customerId ?? "", subtotal: subtotal(perCustomer.get(line.customerId ?? "") ?? []) };
        out.push(head);
      }
      out.push({ line });
    }
    return out;
  }, [lines, sort, grouped]);
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
    <div className="table-scroll" ref={scroller} tabIndex={0} role="region" aria-label={`Bill lines, ${lines.length}`} data-testid="lines">
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
            const row = rows[it.index];
            if (!("line" in row)) {
              return (
                <tr key={it.key} aria-rowindex={it.index + 2} style={{ height: rowHeight }} className="group-row" data-testid="customer-group">
                  <th scope="rowgroup" colSpan={cols.length + 1}>
                    {groups?.nameOf(row.customerId)} <code>{row.customerId}</code> · {tzOf(row.customerId)}
                    {" "}· subtotal <output data-testid="customer-subtotal">{row.subtotal}</output>
                  </th>
                </tr>
              );
            }
            const l = row.line;
            const tz = tzOf(l.customerId);
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
