import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ok, requestId } from "../api/client";
import { ErrorState, Field, FormError, Loading, useAction } from "../ui";

export function CustomersPage() {
  const customers = useQuery({ queryKey: ["customers"], queryFn: () => ok(api.GET("/v1/customers", { params: { query: { pageSize: 1000 } } })) });
  return (
    <section aria-labelledby="customers-h">
      <h1 id="customers-h">Customers</h1>
      <ErrorState error={customers.error} />
      {customers.isPending && <Loading what="customers" />}
      <ul className="tree" aria-label="Customers">
        {(customers.data?.customers ?? []).map((c) => (
          <li key={c.id}>
            <details>
              <summary><strong>{c.displayName}</strong> <code>{c.id}</code> <span className="muted">{c.billingTimeZone}{c.externalId && ` · external ${c.externalId}`}</span></summary>
              <div className="nested">
                <Link to={`/bills?customer=${encodeURIComponent(c.id!)}`}>Bills of {c.displayName || c.id}</Link>
                <Organisations customerId={c.id!} />
              </div>
            </details>
          </li>
        ))}
      </ul>
      <CustomerForm />
    </section>
  );
}

function CustomerForm() {
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "", billingTimeZone: "Europe/Amsterdam", externalId: "" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await ok(api.POST("/v1/customers", { params: { query: { requestId: requestId() } }, body: v }));
      await qc.invalidateQueries({ queryKey: ["customers"] });
      setV({ ...v, id: "", displayName: "", externalId: "" });
    });
  }
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <form className="card" onSubmit={submit} aria-labelledby="customer-form-h">
      <h2 id="customer-form-h">New customer</h2>
      <Field label="Customer id" error={a.fieldError("id")}>{(f) => <input id={f.id} value={v.id} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("id")} />}</Field>
      <Field label="Customer name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("displayName")} />}</Field>
      <Field label="Billing time zone" error={a.fieldError("billingTimeZone")} hint="IANA name: its months are the customer's months">{(f) => <input id={f.id} value={v.billingTimeZone} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("billingTimeZone")} />}</Field>
      <Field label="External id" error={a.fieldError("externalId")} hint="The customer's number in your ERP">{(f) => <input id={f.id} value={v.externalId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={set("externalId")} />}</Field>
      <button type="submit" disabled={a.busy}>Create customer</button>
      <FormError error={a.error} />
    </form>
  );
}

function Organisations({ customerId }: { customerId: string }) {
  const orgs = useQuery({ queryKey: ["orgs", customerId], queryFn: () => ok(api.GET("/v1/customers/{customerId}/organisations", { params: { path: { customerId }, query: { pageSize: 1000 } } })) });
  if (orgs.error) return <ErrorState error={orgs.error} />;
  if (!orgs.data) return <Loading what="organisations" />;
  return (
    <>
      {(orgs.data.organisations ?? []).length === 0 && <p className="muted">No organisations.</p>}
      <ul>
        {(orgs.data.organisations ?? []).map((o) => (
          <li key={o.id}>{o.displayName} <code>{o.id}</code><Vdcs customerId={customerId} organisationId={o.id!} /></li>
        ))}
      </ul>
      <ChildForm what="organisation" parent={customerId} onCreate={(id, displayName) =>
        ok(api.POST("/v1/customers/{customerId}/organisations", { params: { path: { customerId }, query: { requestId: requestId() } }, body: { id, displayName } }))}
        invalidate={["orgs", customerId]} />
    </>
  );
}

/** ChildForm creates an organisation of a customer or a VDC of an organisation. */
function ChildForm({ what, parent, onCreate, invalidate }: { what: string; parent: string; onCreate: (id: string, name: string) => Promise<unknown>; invalidate: string[] }) {
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ id: "", displayName: "" });
  function submit(e: FormEvent) {
    e.preventDefault();
    a.run(async () => {
      await onCreate(v.id, v.displayName);
      await qc.invalidateQueries({ queryKey: invalidate });
      setV({ id: "", displayName: "" });
    });
  }
  return (
    <form className="inline" onSubmit={submit} aria-label={`New ${what} of ${parent}`}>
      <Field label={`New ${what} id`} error={a.fieldError("id")}>{(f) => <input id={f.id} value={v.id} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, id: e.target.value })} />}</Field>
      <Field label={`${what[0].toUpperCase()}${what.slice(1)} name`} error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, displayName: e.target.value })} />}</Field>
      <button type="submit" disabled={a.busy}>Add {what}</button>
      <FormError error={a.error} />
    </form>
  );
}

function Vdcs({ customerId, organisationId }: { customerId: string; organisationId: string }) {
  const vdcs = useQuery({
    queryKey: ["vdcs", customerId, organisationId],
    queryFn: () => ok(api.GET("/v1/customers/{customerId}/organisations/{organisationId}/vdcs", { params: { path: { customerId, organisationId }, query: { pageSize: 1000 } } })),
  });
  if (vdcs.error) return <ErrorState error={vdcs.error} />;
  return (
    <div className="nested">
      <ul>
        {(vdcs.data?.vdcs ?? []).map((v) => <li key={v.id}>VDC {v.displayName} <code>{v.id}</code></li>)}
      </ul>
      <ChildForm what="VDC" parent={organisationId} onCreate={(id, displayName) =>
        ok(api.POST("/v1/customers/{customerId}/organisations/{organisationId}/vdcs", { params: { path: { customerId, organisationId }, query: { requestId: requestId() } }, body: { id, displayName } }))}
        invalidate={["vdcs", customerId, organisationId]} />
    </div>
  );
}
