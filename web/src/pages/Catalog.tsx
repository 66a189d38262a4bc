import { useState, type FormEvent, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, changed, ok, requestId, type Schemas } from "../api/client";
import { enumLabel, ErrorState, Field, FormError, Loading, useAction } from "../ui";

type Product = Schemas["v1Product"];

const aggregations: Schemas["v1Aggregation"][] = [
  "AGGREGATION_SUM", "AGGREGATION_MAX", "AGGREGATION_TIME_WEIGHTED_AVG", "AGGREGATION_LATEST", "AGGREGATION_UNIQUE_COUNT",
];

export function useCatalog() {
  const metrics = useQuery({ queryKey: ["metrics"], queryFn: () => ok(api.GET("/v1/metrics", { params: { query: { pageSize: 1000 } } })) });
  const groups = useQuery({ queryKey: ["groups"], queryFn: () => ok(api.GET("/v1/productGroups", { params: { query: { pageSize: 1000 } } })) });
  const products = useQuery({ queryKey: ["products"], queryFn: () => ok(api.GET("/v1/products", { params: { query: { pageSize: 1000 } } })) });
  return { metrics, groups, products };
}

export function CatalogPage() {
  const { metrics, groups, products } = useCatalog();
  const err = metrics.error ?? groups.error ?? products.error;
  return (
    <section aria-labelledby="catalog-h">
      <h1 id="catalog-h">Catalog</h1>
      <ErrorState error={err} />
      <div className="columns">
        <div>
          <h2>Product groups and products</h2>
          {groups.data && products.data ? (
            <ul className="tree" aria-label="Product groups">
              {(groups.data.productGroups ?? []).map((g) => (
                <li key={g.id}>
                  <EditableItem id={g.id!} keys={["groups"]} fields={[["displayName", "Name"], ["description", "Description"]]}
                    values={{ displayName: g.displayName ?? "", description: g.description ?? "" }}
                    save={(body) => ok(api.PATCH("/v1/productGroups/{productGroup.id}", { params: { path: { "productGroup.id": g.id! } }, body }))}>
                    <strong>{g.displayName}</strong> <code>{g.id}</code>{g.description && <span className="muted"> · {g.description}</span>}
                  </EditableItem>{" "}
                  <DeleteButton what={`group ${g.id}`} del={() => ok(api.DELETE("/v1/productGroups/{productGroupId}", { params: { path: { productGroupId: g.id! } } }))} keys={["groups"]} />
                  <ul aria-label={`Products of ${g.displayName}`}>
                    {(products.data.products ?? []).filter((p) => p.productGroupId === g.id).map((p) => <ProductItem key={p.id} p={p} />)}
                  </ul>
                </li>
              ))}
            </ul>
          ) : !err && <Loading what="the catalog" />}
          <GroupForm />
          <ProductForm />
        </div>
        <div>
          <h2>Metrics</h2>
          {metrics.data && (
            <table>
              <thead><tr><th scope="col">Key</th><th scope="col">Unit</th><th scope="col">Aggregation</th></tr></thead>
              <tbody>
                {(metrics.data.metrics ?? []).map((m) => (
                  <tr key={m.key}>
                    <td>
                      <EditableItem id={m.key!} keys={["metrics"]} fields={[["displayName", "Name"], ["description", "Description"], ["unit", "Unit"]]}
                        values={{ displayName: m.displayName ?? "", description: m.description ?? "", unit: m.unit ?? "" }}
                        save={(body) => ok(api.PATCH("/v1/metrics/{metric.key}", { params: { path: { "metric.key": m.key! } }, body }))}>
                        <code>{m.key}</code> {m.displayName}{m.description && <span className="muted"> · {m.description}</span>}
                        {m.expression && <span className="derived"> = <code>{m.expression}</code> <span className="muted">(derived)</span></span>}
                      </EditableItem>
                    </td>
                    <td>{m.unit}</td><td>{enumLabel(m.aggregation, "AGGREGATION_")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <MetricForm />
        </div>
      </div>
    </section>
  );
}

function ProductItem({ p }: { p: Product }) {
  const filter = formatFilter(p.dimensionFilter);
  return (
    <li>
      <EditableItem id={p.id!} keys={["products"]} fields={[["displayName", "Name"], ["description", "Description"], ["dimensionFilter", "Dimension filter"]]}
        values={{ displayName: p.displayName ?? "", description: p.description ?? "", dimensionFilter: filter }}
        save={(body) => {
          const { dimensionFilter, ...rest } = body;
          const patch = dimensionFilter === undefined ? rest : { ...rest, dimensionFilter: parseFilter(dimensionFilter) };
          return ok(api.PATCH("/v1/products/{product.id}", { params: { path: { "product.id": p.id! } }, body: patch }));
        }}>
        {p.displayName} <code>{p.id}</code> <span className="muted">{p.metricKey}{filter && ` where ${filter}`} · {p.unit}</span>
        {p.peakBasis === "PEAK_BASIS_CUSTOMER" && <> <span className="badge">peak: customer's total</span></>}
        {p.peakBasis === "PEAK_BASIS_RESOURCE" && <> <span className="badge">peak: per resource</span></>}
        {p.description && <span className="muted"> · {p.description}</span>}
      </EditableItem>{" "}
      <DeleteButton what={`product ${p.id}`} del={() => ok(api.DELETE("/v1/products/{productId}", { params: { path: { productId: p.id! } } }))} keys={["products"]} />
    </li>
  );
}

/** formatFilter shows {"policy": "Gold"} as "policy=Gold", keys sorted. */
function formatFilter(f: Record<string, string> | undefined): string {
  return Object.entries(f ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** parseFilter reads "policy=Gold, site=ams" back into a map. */
function parseFilter(text: string): Record<string, string> {
  return Object.fromEntries(text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean).map((s) => {
    const i = s.indexOf("=");
    return i < 0 ? [s, ""] : [s.slice(0, i).trim(), s.slice(i + 1).trim()];
  }));
}

/** EditableItem shows children with an Edit button; editing opens a form of
 *  the given text fields that PATCHes only the fields that changed, and shows
 *  a refused field's message at that field. */
function EditableItem<K extends string>(props: {
  id: string; keys: string[]; fields: [K, string][]; values: Record<K, string>;
  save: (body: Partial<Record<K, string>>) => Promise<unknown>; children: ReactNode;
}) {
  const [editing, setEditing] = useState(false);
  const [v, setV] = useState(props.values);
  const qc = useQueryClient();
  const a = useAction();
  if (!editing) {
    return (
      <>
        {props.children}{" "}
        <button type="button" className="small" onClick={() => { setV(props.values); a.clear(); setEditing(true); }} aria-label={`Edit ${props.id}`}>Edit</button>
      </>
    );
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const body = changed(props.values, v);
    if (Object.keys(body).length === 0) { setEditing(false); return; }
    a.run(async () => {
      await props.save(body);
      await qc.invalidateQueries({ queryKey: props.keys });
      setEditing(false);
    });
  }
  return (
    <form className="inline edit" onSubmit={submit} aria-label={`Edit ${props.id}`}>
      {props.fields.map(([k, label]) => (
        <Field key={k} label={`${label} of ${props.id}`} error={a.fieldError(k)}>
          {/* The form replaces the Edit button the user just pressed: focus moves into it. */}
          {(f) => <input id={f.id} value={v[k]} autoFocus={k === props.fields[0][0]} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
        </Field>
      ))}
      <button type="submit" disabled={a.busy}>Save</button>
      <button type="button" onClick={() => setEditing(false)}>Cancel</button>
      <FormError error={a.error} />
    </form>
  );
}

export function DeleteButton({ what, del, keys }: { what: string; del: () => Promise<unknown>; keys: string[] }) {
  const qc = useQueryClient();
  const a = useAction();
  return (
    <>
      <button type="button" className="small danger" disabled={a.busy} aria-label={`Delete ${what}`} onClick={() => {
        if (!confirm(`Delete ${what}?`)) return;
        a.run(async () => { await del(); await qc.invalidateQueries({ queryKey: keys }); });
      }}>Delete</button>
      {a.error && <span className="field-error" role="alert">{a.error.message}</span>}
    </>
  );
}

function GroupForm() {
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/productGroups", { params: { query: { requestId: requestId() } }, body: v }));
      await qc.invalidateQueries({ queryKey: ["groups"] });
      setV({ id: "", displayName: "" });
    });
  }
  return (
    <form onSubmit={submit} aria-labelledby="group-form-h" className="card">
      <h3 id="group-form-h">New product group</h3>
      <Field label="Group id" error={a.fieldError("id")}>{(f) => <input id={f.id} value={v.id} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, id: e.target.value })} />}</Field>
      <Field label="Group name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, displayName: e.target.value })} />}</Field>
      <button type="submit" disabled={a.busy}>Create group</button>
      <FormError error={a.error} />
    </form>
  );
}

function ProductForm() {
  const { metrics, groups } = useCatalog();
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "", productGroupId: "", metricKey: "", unit: "", filter: "", peakBasis: "PEAK_BASIS_UNSPECIFIED" as Schemas["v1PeakBasis"] });
  function submit(e: FormEvent) {
    e.preventDefault();
    const dimensionFilter = parseFilter(v.filter);
    a.run(async () => {
      await ok(api.POST("/v1/products", { params: { query: { requestId: requestId() } }, body: {
        id: v.id, displayName: v.displayName, productGroupId: v.productGroupId, metricKey: v.metricKey, unit: v.unit, dimensionFilter, peakBasis: v.peakBasis,
      } }));
      await qc.invalidateQueries({ queryKey: ["products"] });
      setV({ ...v, id: "", displayName: "", filter: "" });
    });
  }
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <form onSubmit={submit} aria-labelledby="product-form-h" className="card">
      <h3 id="product-form-h">New product</h3>
      <Field label="Product id" error={a.fieldError("id")}>{(f) => <input id={f.id} value={v.id} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("id")} />}</Field>
      <Field label="Product name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("displayName")} />}</Field>
      <Field label="Group" error={a.fieldError("productGroupId")}>{(f) => (
        <select id={f.id} value={v.productGroupId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("productGroupId")}>
          <option value="">Choose a group</option>
          {(groups.data?.productGroups ?? []).map((g) => <option key={g.id} value={g.id}>{g.displayName} ({g.id})</option>)}
        </select>)}</Field>
      <Field label="Metric" error={a.fieldError("metricKey")}>{(f) => (
        <select id={f.id} value={v.metricKey} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("metricKey")}>
          <option value="">Choose a metric</option>
          {(metrics.data?.metrics ?? []).map((m) => <option key={m.key} value={m.key}>{m.key}</option>)}
        </select>)}</Field>
      <Field label="Unit" error={a.fieldError("unit")} hint="Empty: the metric's unit">{(f) => <input id={f.id} value={v.unit} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("unit")} />}</Field>
      <Field label="Dimension filter" error={a.fieldError("dimensionFilter")} hint="key=value, comma separated, e.g. policy=Gold">{(f) => <input id={f.id} value={v.filter} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("filter")} />}</Field>
      <Field label="Peak basis" error={a.fieldError("peakBasis")} hint="For a max metric: whose peak is charged">{(f) => (
        <select id={f.id} value={v.peakBasis} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("peakBasis")}>
          <option value="PEAK_BASIS_UNSPECIFIED">default (each resource's peak)</option>
          <option value="PEAK_BASIS_RESOURCE">each resource's peak, summed</option>
          <option value="PEAK_BASIS_CUSTOMER">the customer's peak total</option>
        </select>)}</Field>
      <button type="submit" disabled={a.busy}>Create product</button>
      <FormError error={a.error} />
    </form>
  );
}

function MetricForm() {
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ key: "", displayName: "", unit: "", aggregation: "AGGREGATION_SUM" as Schemas["v1Aggregation"], expression: "" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/metrics", { params: { query: { requestId: requestId() } }, body: { ...v, expression: v.expression || undefined } }));
      await qc.invalidateQueries({ queryKey: ["metrics"] });
      setV({ ...v, key: "", displayName: "", unit: "", expression: "" });
    });
  }
  return (
    <form onSubmit={submit} aria-labelledby="metric-form-h" className="card">
      <h3 id="metric-form-h">New metric</h3>
      <Field label="Metric key" error={a.fieldError("key")}>{(f) => <input id={f.id} value={v.key} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, key: e.target.value })} />}</Field>
      <Field label="Metric name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, displayName: e.target.value })} />}</Field>
      <Field label="Metric unit" error={a.fieldError("unit")}>{(f) => <input id={f.id} value={v.unit} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, unit: e.target.value })} />}</Field>
      <Field label="Aggregation" error={a.fieldError("aggregation")}>{(f) => (
        <select id={f.id} value={v.aggregation} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, aggregation: e.target.value as Schemas["v1Aggregation"] })}>
          {aggregations.map((x) => <option key={x} value={x}>{enumLabel(x, "AGGREGATION_")}</option>)}
        </select>)}</Field>
      <Field label="Expression" error={a.fieldError("expression")} hint="Empty: a measured metric. Set: derived from other metrics, e.g. vm.vcpu * vm.powered_on (time-weighted avg, max or latest)">{(f) => <input id={f.id} value={v.expression} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, expression: e.target.value })} />}</Field>
      <button type="submit" disabled={a.busy}>Create metric</button>
      <FormError error={a.error} />
    </form>
  );
}
