import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, changed, ok, requestId, type Schemas } from "../api/client";
import { enumLabel, ErrorState, Field, FormError, Loading, useAction } from "../ui";
import { useCatalog, DeleteButton } from "./Catalog";

type Price = Schemas["v1Price"];
type Campaign = Schemas["v1Campaign"];
const day = (iso?: string) => (iso ? iso.slice(0, 10) : ""); // prices are dated in UTC
const utc = (date: string) => (date ? `${date}T00:00:00Z` : undefined);
const FAILED_PRECONDITION = 9;

export function PricingPage() {
  const [params, setParams] = useSearchParams();
  const lists = useQuery({ queryKey: ["priceLists"], queryFn: () => ok(api.GET("/v1/priceLists", { params: { query: { pageSize: 1000 } } })) });
  const listId = params.get("list") || lists.data?.priceLists?.[0]?.id || "";
  const list = lists.data?.priceLists?.find((l) => l.id === listId);
  const prices = useQuery({
    queryKey: ["prices", listId], enabled: !!listId,
    queryFn: () => ok(api.GET("/v1/priceLists/{priceListId}/prices", { params: { path: { priceListId: listId }, query: { pageSize: 1000 } } })),
  });
  const campaigns = useQuery({ queryKey: ["campaigns"], queryFn: () => ok(api.GET("/v1/campaigns", { params: { query: { pageSize: 1000 } } })) });
  const contracts = useQuery({ queryKey: ["contracts"], queryFn: () => ok(api.GET("/v1/contracts", { params: { query: { pageSize: 1000 } } })) });
  const relevant = (campaigns.data?.campaigns ?? []).filter((c) => c.currency === list?.currency && (!c.customerId || c.customerId === list?.customerId));

  return (
    <section aria-labelledby="pricing-h">
      <h1 id="pricing-h">Price lists</h1>
      <ErrorState error={lists.error ?? prices.error ?? campaigns.error} />
      <div className="toolbar">
        <label>Price list{" "}
          <select value={listId} onChange={(e) => setParams({ list: e.target.value })}>
            {(lists.data?.priceLists ?? []).map((l) => (
              <option key={l.id} value={l.id}>{l.displayName} ({l.customerId ? `customer ${l.customerId}` : "default"}, {l.currency})</option>
            ))}
          </select>
        </label>
      </div>
      {list && <p className="muted">{list.customerId ? `Prices for customer ${list.customerId}; products it does not price fall back to the default list.` : "The default list: prices every customer without its own price."}</p>}
      {prices.isPending && listId && <Loading what="prices" />}
      {prices.data && <Timeline prices={prices.data.prices ?? []} campaigns={relevant} />}
      <div className="columns">
        {listId && <PriceForm listId={listId} currency={list?.currency ?? ""} />}
        <CampaignForm currency={list?.currency ?? "EUR"} customerId={list?.customerId ?? ""} />
        <PriceListForm />
      </div>
      <h2>Contracts</h2>
      <ErrorState error={contracts.error} />
      {contracts.data && (
        <table>
          <thead><tr><th scope="col">Contract</th><th scope="col">Customer</th><th scope="col">Product</th><th scope="col">Model</th><th scope="col">Commitment</th><th scope="col">Fee</th><th scope="col">Overage price</th><th scope="col">Valid</th></tr></thead>
          <tbody>
            {(contracts.data.contracts ?? []).map((c) => (
              <tr key={c.id}>
                <td><code>{c.id}</code></td><td>{c.customerId}</td><td>{c.productId}</td><td>{enumLabel(c.model, "CONTRACT_MODEL_")}</td>
                <td className="num">{c.committedQuantity}</td><td className="num">{c.fee} {c.currency} / {enumLabel(c.feeGranularity, "GRANULARITY_")}</td>
                <td className="num">{c.overageUnitPrice}</td><td>{day(c.startTime)} – {day(c.endTime) || "open"} · proration {enumLabel(c.proration, "PRORATION_")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ContractForm key={listId} currency={list?.currency ?? "EUR"} customerId={list?.customerId ?? ""} />
    </section>
  );
}

function ContractForm({ currency, customerId }: { currency: string; customerId: string }) {
  const { products } = useCatalog();
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({
    id: "", customerId, productId: "", model: "CONTRACT_MODEL_COMMITTED" as Schemas["v1ContractModel"], committedQuantity: "", fee: "",
    feeGranularity: "GRANULARITY_MONTH" as Schemas["v1Granularity"], overageUnitPrice: "", from: "", to: "", proration: "PRORATION_DAILY" as Schemas["v1Proration"],
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/contracts", { params: { query: { requestId: requestId() } }, body: {
        id: v.id, customerId: v.customerId, productId: v.productId, model: v.model, committedQuantity: v.committedQuantity, fee: v.fee,
        feeGranularity: v.feeGranularity, overageUnitPrice: v.model === "CONTRACT_MODEL_COMMITTED_OVERAGE" ? v.overageUnitPrice : undefined,
        currency, startTime: utc(v.from), endTime: utc(v.to), proration: v.proration,
      } }));
      await qc.invalidateQueries({ queryKey: ["contracts"] });
      setV({ ...v, id: "" });
    });
  }
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const input = (label: string, k: keyof typeof v, field: string, extra: Record<string, string> = {}, hint?: string) => (
    <Field label={label} error={a.fieldError(field)} hint={hint}>{(f) => <input id={f.id} value={v[k]} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set(k)} {...extra} />}</Field>
  );
  const overlap = a.error instanceof ApiError && a.error.code === FAILED_PRECONDITION ? a.error.message : undefined;
  return (
    <form onSubmit={submit} aria-labelledby="contract-form-h" className="card">
      <h3 id="contract-form-h">New contract ({currency})</h3>
      <div className="columns">
        <div>
          {input("Contract id", "id", "id")}
          {input("Contract customer", "customerId", "customerId")}
          <Field label="Contracted product" error={a.fieldError("productId")}>{(f) => (
            <select id={f.id} value={v.productId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("productId")}>
              <option value="">Choose a product</option>
              {(products.data?.products ?? []).map((p) => <option key={p.id} value={p.id}>{p.displayName} ({p.id})</option>)}
            </select>)}</Field>
          <Field label="Model" error={a.fieldError("model")}>{(f) => (
            <select id={f.id} value={v.model} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("model")}>
              <option value="CONTRACT_MODEL_COMMITTED">committed</option>
              <option value="CONTRACT_MODEL_COMMITTED_OVERAGE">committed + overage</option>
            </select>)}</Field>
        </div>
        <div>
          {input("Committed quantity", "committedQuantity", "committedQuantity", { inputMode: "decimal" }, "Per fee period, in the product's unit")}
          {input("Fee", "fee", "fee", { inputMode: "decimal" })}
          <Field label="Fee per" error={a.fieldError("feeGranularity")}>{(f) => (
            <select id={f.id} value={v.feeGranularity} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("feeGranularity")}>
              {(["GRANULARITY_MONTH", "GRANULARITY_DAY", "GRANULARITY_HOUR"] as const).map((g) => <option key={g} value={g}>{enumLabel(g, "GRANULARITY_")}</option>)}
            </select>)}</Field>
          {v.model === "CONTRACT_MODEL_COMMITTED_OVERAGE" && input("Overage unit price", "overageUnitPrice", "overageUnitPrice", { inputMode: "decimal" })}
        </div>
        <div>
          <Field label="Contract from (UTC)" error={a.fieldError("startTime") ?? overlap}>{(f) => <input id={f.id} type="date" value={v.from} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("from")} />}</Field>
          {input("Contract to (UTC, exclusive)", "to", "endTime", { type: "date" }, "Empty: open-ended")}
          <Field label="Proration" error={a.fieldError("proration")}>{(f) => (
            <select id={f.id} value={v.proration} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("proration")}>
              {(["PRORATION_DAILY", "PRORATION_HOURLY", "PRORATION_NONE"] as const).map((p) => <option key={p} value={p}>{enumLabel(p, "PRORATION_")}</option>)}
            </select>)}</Field>
        </div>
      </div>
      <button type="submit" disabled={a.busy}>Create contract</button>
      {!overlap && <FormError error={a.error} />}
    </form>
  );
}

/** Timeline draws each product's price windows [from, to) and the campaigns
 *  that override it on one time axis, so gaps and overlaps are visible. */
function Timeline({ prices, campaigns }: { prices: Price[]; campaigns: Campaign[] }) {
  const products = [...new Set([...prices.map((p) => p.productId ?? ""), ...campaigns.flatMap((c) => (c.entries ?? []).map((e) => e.productId ?? ""))])].sort();
  if (products.length === 0) return <p>No prices in this list yet.</p>;
  const times = [...prices, ...campaigns].flatMap((x) => [x.validFrom, x.validTo]).filter(Boolean).map((t) => Date.parse(t!));
  const min = Math.min(...times);
  const max = Math.max(...times, min + 86400_000) + 31 * 86400_000; // room for open ends
  const pos = (from?: string, to?: string) => {
    const a = from ? Date.parse(from) : min;
    const b = to ? Date.parse(to) : max;
    return { left: `${((a - min) / (max - min)) * 100}%`, width: `${Math.max(((b - a) / (max - min)) * 100, 0.5)}%` };
  };
  return (
    <div className="timeline" role="list" aria-label="Price windows per product">
      <div className="axis" aria-hidden="true"><span>{day(new Date(min).toISOString())}</span><span>{day(new Date(max).toISOString())}</span></div>
      {products.map((pid) => (
        <div key={pid} className="lane" role="listitem">
          <div className="lane-name">{pid}</div>
          <div className="lane-bars">
            {prices.filter((p) => p.productId === pid).map((p) => (
              <div key={p.id} className="bar price" style={pos(p.validFrom, p.validTo)}
                title={`${priceText(p)} from ${day(p.validFrom)} to ${day(p.validTo) || "open"}`}>
                <span>{(p.tiers ?? []).length > 0 ? tiersText(p) : p.unitPrice}{p.minimumCharge ? ` (min ${p.minimumCharge})` : ""} · {day(p.validFrom)} → {day(p.validTo) || "open"}</span>
              </div>
            ))}
            {campaigns.flatMap((c) => (c.entries ?? []).filter((e) => e.productId === pid).map((e) => (
              <div key={c.id} className={`bar campaign${parseFloat(pos(c.validFrom, c.validTo).left) > 50 ? " label-left" : ""}`} style={pos(c.validFrom, c.validTo)} title={`campaign ${c.id} overrides ${pid}`}>
                <span>campaign {c.displayName || c.id}: {e.unitPrice ? e.unitPrice : `−${e.discountPercent}%`} · {day(c.validFrom)} → {day(c.validTo) || "open"}</span>
              </div>
            )))}
          </div>
          <ul className="lane-list">
            {prices.filter((p) => p.productId === pid).map((p) => <PriceItem key={p.id} p={p} />)}
          </ul>
        </div>
      ))}
    </div>
  );
}

type TierMode = Schemas["v1TierMode"];
type TierRow = { upTo: string; unitPrice: string };
type PriceState = { productId: string; mode: TierMode; unitPrice: string; tiers: TierRow[]; granularity: Schemas["v1Granularity"]; from: string; to: string; minimumCharge: string };

const flat: TierMode = "TIER_MODE_UNSPECIFIED";
const emptyPrice: PriceState = { productId: "", mode: flat, unitPrice: "", tiers: [{ upTo: "", unitPrice: "" }], granularity: "GRANULARITY_HOUR", from: "", to: "", minimumCharge: "" };

function priceState(p: Price): PriceState {
  const tiered = (p.tiers ?? []).length > 0;
  return {
    productId: p.productId ?? "", mode: tiered ? p.tierMode ?? flat : flat, unitPrice: tiered ? "" : p.unitPrice ?? "",
    tiers: tiered ? p.tiers!.map((t) => ({ upTo: t.upTo ?? "", unitPrice: t.unitPrice ?? "" })) : [{ upTo: "", unitPrice: "" }],
    granularity: p.granularity ?? "GRANULARITY_HOUR", from: day(p.validFrom), to: day(p.validTo), minimumCharge: p.minimumCharge ?? "",
  };
}

/** priceBody is the API's Price for a form state. An open end is null (not
 *  absent), so that clearing it is a change PATCH can send. */
function priceBody(v: PriceState) {
  const tiered = v.mode !== flat;
  return {
    unitPrice: tiered ? "" : v.unitPrice, granularity: v.granularity, tierMode: v.mode,
    tiers: tiered ? v.tiers.map((t, i) => ({ upTo: i === v.tiers.length - 1 ? "" : t.upTo, unitPrice: t.unitPrice })) : [],
    validFrom: utc(v.from) ?? null, validTo: utc(v.to) ?? null, minimumCharge: v.minimumCharge,
  };
}

/** tiersText is "graduated: ≤100 at 0.02, ≤1000 at 0.015, above at 0.01". */
export function tiersText(p: Price): string {
  const tiers = p.tiers ?? [];
  if (tiers.length === 0) return "";
  return `${enumLabel(p.tierMode, "TIER_MODE_")}: ${tiers.map((t) => (t.upTo ? `≤${t.upTo} at ${t.unitPrice}` : `above at ${t.unitPrice}`)).join(", ")}`;
}

/** priceText is how one price reads on the timeline and in its list. */
function priceText(p: Price): string {
  const what = (p.tiers ?? []).length > 0 ? tiersText(p) : p.unitPrice;
  const min = p.minimumCharge ? `, at least ${p.minimumCharge} a month` : "";
  return `${what} per ${enumLabel(p.granularity, "GRANULARITY_")}${min}`;
}

/** PriceForm creates a price (no price given) or edits one. An edit PATCHes
 *  only the fields that differ from the stored price. */
function PriceItem({ p }: { p: Price }) {
  const [editing, setEditing] = useState(false);
  return (
    <li>
      <code>{p.id}</code> {priceText(p)}, [{day(p.validFrom)}, {day(p.validTo) || "open"}){" "}
      <button type="button" className="small" aria-label={`Edit price ${p.id}`} aria-expanded={editing} onClick={() => setEditing(!editing)}>Edit</button>{" "}
      <DeleteButton what={`price ${p.id}`} keys={["prices"]}
        del={() => ok(api.DELETE("/v1/priceLists/{priceListId}/prices/{priceId}", { params: { path: { priceListId: p.priceListId!, priceId: p.id! } } }))} />
      {editing && <PriceForm listId={p.priceListId!} currency="" price={p} onDone={() => setEditing(false)} />}
    </li>
  );
}

function PriceForm({ listId, currency, price, onDone }: { listId: string; currency: string; price?: Price; onDone?: () => void }) {
  const { products } = useCatalog();
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState<PriceState>(price ? priceState(price) : emptyPrice);
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      if (price) {
        const body = changed(priceBody(priceState(price)), priceBody(v));
        if (Object.keys(body).length > 0) {
          await ok(api.PATCH("/v1/priceLists/{price.priceListId}/prices/{price.id}", {
            params: { path: { "price.priceListId": listId, "price.id": price.id! } }, body: body as Price,
          }));
        }
      } else {
        await ok(api.POST("/v1/priceLists/{priceListId}/prices", {
          params: { path: { priceListId: listId }, query: { requestId: requestId() } },
          body: { productId: v.productId, ...priceBody(v) } as Price,
        }));
        setV({ ...v, unitPrice: "", from: "", to: "", tiers: [{ upTo: "", unitPrice: "" }], minimumCharge: "" });
      }
      await qc.invalidateQueries({ queryKey: ["prices", listId] });
      onDone?.();
    });
  }
  // A window that overlaps another price is refused as FAILED_PRECONDITION
  // naming that price: it belongs at the window's field.
  const overlap = a.error instanceof ApiError && a.error.code === FAILED_PRECONDITION ? a.error.message : undefined;
  const set = (k: keyof PriceState) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const setTier = (i: number, k: keyof TierRow, value: string) => setV({ ...v, tiers: v.tiers.map((t, j) => (j === i ? { ...t, [k]: value } : t)) });
  const headingId = `price-form-h${price ? `-${price.id}` : ""}`;
  return (
    <form onSubmit={submit} aria-labelledby={headingId} className="card">
      <h3 id={headingId}>{price ? `Edit price ${price.id} of ${price.productId}` : `New price in ${listId} (${currency})`}</h3>
      {!price && <Field label="Priced product" error={a.fieldError("productId")}>{(f) => (
        <select id={f.id} value={v.productId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("productId")}>
          <option value="">Choose a product</option>
          {(products.data?.products ?? []).map((p) => <option key={p.id} value={p.id}>{p.displayName} ({p.id})</option>)}
        </select>)}</Field>}
      <Field label={`Pricing`} error={a.fieldError("tierMode")}>{(f) => (
        <select id={f.id} value={v.mode} autoFocus={!!price} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("mode")}>
          <option value={flat}>one unit price</option>
          <option value="TIER_MODE_GRADUATED">graduated tiers (each band at its price)</option>
          <option value="TIER_MODE_VOLUME">volume tiers (the whole quantity at one band's price)</option>
        </select>)}</Field>
      {v.mode === flat ? (
        <Field label={`Unit price`} error={a.fieldError("unitPrice")} hint="Exact decimal, e.g. 0.0125">{(f) => <input id={f.id} inputMode="decimal" value={v.unitPrice} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("unitPrice")} />}</Field>
      ) : (
        <fieldset className="tiers">
          <legend>Tiers</legend>
          {a.fieldError("tiers") && <p className="field-error" role="alert">{a.fieldError("tiers")}</p>}
          {v.tiers.map((t, i) => {
            const last = i === v.tiers.length - 1;
            return (
              <div className="inline tier" key={i}>
                {last ? <p className="tier-open">{v.tiers.length > 1 ? "Above the last bound" : "Every unit"}</p> : (
                  <Field label={`Tier ${i + 1} up to`} error={a.fieldError(`tiers[${i}].upTo`)} hint="Inclusive">{(f) => <input id={f.id} inputMode="decimal" value={t.upTo} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setTier(i, "upTo", e.target.value)} />}</Field>
                )}
                <Field label={`Tier ${i + 1} unit price`} error={a.fieldError(`tiers[${i}].unitPrice`)}>{(f) => <input id={f.id} inputMode="decimal" value={t.unitPrice} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setTier(i, "unitPrice", e.target.value)} />}</Field>
                {v.tiers.length > 1 && <button type="button" className="small" aria-label={`Remove tier ${i + 1}`} onClick={() => setV({ ...v, tiers: v.tiers.filter((_, j) => j !== i) })}>Remove</button>}
              </div>
            );
          })}
          <button type="button" className="small" onClick={() => setV({ ...v, tiers: [...v.tiers.slice(0, -1), { upTo: "", unitPrice: "" }, v.tiers.at(-1)!] })}>Add tier</button>
        </fieldset>
      )}
      <Field label={`Per`} error={a.fieldError("granularity")}>{(f) => (
        <select id={f.id} value={v.granularity} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("granularity")}>
          {(["GRANULARITY_HOUR", "GRANULARITY_DAY", "GRANULARITY_MONTH"] as const).map((g) => <option key={g} value={g}>{enumLabel(g, "GRANULARITY_")}</option>)}
        </select>)}</Field>
      <Field label={`Valid from (UTC)`} error={a.fieldError("validFrom") ?? overlap}>{(f) => <input id={f.id} type="date" value={v.from} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("from")} />}</Field>
      <Field label={`Valid to (UTC, exclusive)`} error={a.fieldError("validTo")} hint="Empty: open-ended">{(f) => <input id={f.id} type="date" value={v.to} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("to")} />}</Field>
      <Field label={`Minimum monthly charge`} error={a.fieldError("minimumCharge")} hint="Empty: none. Prorated by the days the price is in force">{(f) => <input id={f.id} inputMode="decimal" value={v.minimumCharge} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("minimumCharge")} />}</Field>
      <button type="submit" disabled={a.busy}>{price ? "Save price" : "Add price"}</button>
      {price && <button type="button" onClick={onDone}>Cancel</button>}
      {!overlap && <FormError error={a.error} />}
    </form>
  );
}

function CampaignForm({ currency, customerId }: { currency: string; customerId: string }) {
  const { products } = useCatalog();
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "", productId: "", unitPrice: "", discountPercent: "", from: "", to: "", priority: "0" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/campaigns", { params: { query: { requestId: requestId() } }, body: {
        id: v.id, displayName: v.displayName, currency, customerId, validFrom: utc(v.from), validTo: utc(v.to), priority: Number(v.priority) || 0,
        entries: [{ productId: v.productId, unitPrice: v.unitPrice || undefined, discountPercent: v.discountPercent || undefined }],
      } }));
      await qc.invalidateQueries({ queryKey: ["campaigns"] });
      setV({ ...v, id: "", displayName: "", unitPrice: "", discountPercent: "" });
    });
  }
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const field = (label: string, k: keyof typeof v, api: string, extra: Record<string, string> = {}, hint?: string) => (
    <Field label={label} error={a.fieldError(api)} hint={hint}>{(f) => <input id={f.id} value={v[k]} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set(k)} {...extra} />}</Field>
  );
  return (
    <form onSubmit={submit} aria-labelledby="campaign-form-h" className="card">
      <h3 id="campaign-form-h">New campaign ({customerId ? `customer ${customerId}` : "all customers"}, {currency})</h3>
      {field("Campaign id", "id", "id")}
      {field("Campaign name", "displayName", "displayName")}
      <Field label="Overridden product" error={a.fieldError("productId")}>{(f) => (
        <select id={f.id} value={v.productId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("productId")}>
          <option value="">Choose a product</option>
          {(products.data?.products ?? []).map((p) => <option key={p.id} value={p.id}>{p.displayName} ({p.id})</option>)}
        </select>)}</Field>
      {field("Campaign unit price", "unitPrice", "unitPrice", { inputMode: "decimal" }, "Replaces the price; or give a discount")}
      {field("Discount %", "discountPercent", "discountPercent", { inputMode: "decimal" })}
      {field("Campaign from (UTC)", "from", "validFrom", { type: "date" })}
      {field("Campaign to (UTC, exclusive)", "to", "validTo", { type: "date" })}
      {field("Priority", "priority", "priority", { inputMode: "numeric" })}
      <button type="submit" disabled={a.busy}>Create campaign</button>
      <FormError error={a.error} />
    </form>
  );
}

function PriceListForm() {
  const qc = useQueryClient();
  const [, setParams] = useSearchParams();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "", currency: "EUR", customerId: "" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/priceLists", { params: { query: { requestId: requestId() } }, body: { ...v, customerId: v.customerId || undefined } }));
      await qc.invalidateQueries({ queryKey: ["priceLists"] });
      setParams({ list: v.id });
    });
  }
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <form onSubmit={submit} aria-labelledby="list-form-h" className="card">
      <h3 id="list-form-h">New price list</h3>
      <Field label="List id" error={a.fieldError("id")}>{(f) => <input id={f.id} value={v.id} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("id")} />}</Field>
      <Field label="List name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("displayName")} />}</Field>
      <Field label="Currency" error={a.fieldError("currency")}>{(f) => <input id={f.id} value={v.currency} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("currency")} />}</Field>
      <Field label="For customer" error={a.fieldError("customerId")} hint="Empty: a default list">{(f) => <input id={f.id} value={v.customerId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("customerId")} />}</Field>
      <button type="submit" disabled={a.busy}>Create price list</button>
      <FormError error={a.error} />
    </form>
  );
}
