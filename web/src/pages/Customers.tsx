import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import { ErrorState, Loading } from "../ui";

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
              <Organisations customerId={c.id!} />
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Organisations({ customerId }: { customerId: string }) {
  const orgs = useQuery({ queryKey: ["orgs", customerId], queryFn: () => ok(api.GET("/v1/customers/{customerId}/organisations", { params: { path: { customerId }, query: { pageSize: 1000 } } })) });
  if (orgs.error) return <ErrorState error={orgs.error} />;
  if (!orgs.data) return <Loading what="organisations" />;
  if ((orgs.data.organisations ?? []).length === 0) return <p className="muted">No organisations.</p>;
  return (
    <ul>
      {(orgs.data.organisations ?? []).map((o) => (
        <li key={o.id}>{o.displayName} <code>{o.id}</code><Vdcs customerId={customerId} organisationId={o.id!} /></li>
      ))}
    </ul>
  );
}

function Vdcs({ customerId, organisationId }: { customerId: string; organisationId: string }) {
  const vdcs = useQuery({
    queryKey: ["vdcs", customerId, organisationId],
    queryFn: () => ok(api.GET("/v1/customers/{customerId}/organisations/{organisationId}/vdcs", { params: { path: { customerId, organisationId }, query: { pageSize: 1000 } } })),
  });
  if (vdcs.error) return <ErrorState error={vdcs.error} />;
  return (
    <ul>
      {(vdcs.data?.vdcs ?? []).map((v) => <li key={v.id}>VDC {v.displayName} <code>{v.id}</code></li>)}
    </ul>
  );
}
