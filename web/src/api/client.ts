// The one way the console reaches billingd: the public REST API, typed by
// billingd.d.ts (generated from the OpenAPI document), with the signed-in
// user's API key. No other back door exists.
import createClient from "openapi-fetch";
import type { components, paths } from "./billingd";

export type Schemas = components["schemas"];

const storageKey = "billingd.apiKey";

// The key lives in sessionStorage: it is the tab's, gone when the tab
// closes, and never in a URL or in long-lived storage.
export const session = {
  get: (): string => sessionStorage.getItem(storageKey) ?? "",
  set: (key: string) => sessionStorage.setItem(storageKey, key),
  clear: () => sessionStorage.removeItem(storageKey),
};

export const api = createClient<paths>({ baseUrl: "" });
api.use({
  onRequest({ request }) {
    const key = session.get();
    if (key) request.headers.set("Authorization", `Bearer ${key}`);
    return request;
  },
});

/** ApiError is a refused call: the HTTP status and google.rpc.Status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  /** Field violations keyed by the field's last path segment, lowerCamel. */
  readonly fields: Record<string, string>;
  /** How many field violations the server named. */
  readonly violations: number;
  constructor(status: number, body: unknown) {
    const st = (body ?? {}) as { code?: number; message?: string; details?: { fieldViolations?: { field?: string; description?: string }[] }[] };
    super(st.message || `HTTP ${status}`);
    this.status = status;
    this.code = st.code ?? 0;
    this.fields = {};
    this.violations = 0;
    for (const d of st.details ?? []) {
      for (const v of d.fieldViolations ?? []) {
        if (!v.field) continue;
        this.violations++;
        this.fields[fieldName(v.field)] = v.description ?? "invalid";
        // A violation inside a list ("price.tiers[1].up_to") is also kept by
        // its path below the message, "tiers[1].upTo", to show it at its row.
        const below = v.field.split(".").slice(1).join(".");
        if (below.includes("[")) this.fields[camel(below)] = v.description ?? "invalid";
      }
    }
  }
}

/** fieldName maps "price.valid_from" or "price.validFrom" to "validFrom". */
export function fieldName(path: string): string {
  const last = path.split(".").pop() ?? path;
  return camel(last.replace(/\[.*\]$/, ""));
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** ok returns a call's data or throws its ApiError. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok || data === undefined) throw new ApiError(response.status, error);
  return data;
}

/** requestId makes a create safe to retry (the API dedupes on it). */
export const requestId = () => crypto.randomUUID();

/** download fetches a report with the key and saves it as its file name. */
export async function download(query: URLSearchParams): Promise<string> {
  const res = await fetch(`/v1/reports/billing?${query}`, { headers: { Authorization: `Bearer ${session.get()}` } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? "report";
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** changed keeps the fields of next that differ from before: a PATCH body.
 *  The gateway derives update_mask from the body's keys, so sending only
 *  these changes exactly them. Maps (a dimension filter) compare by value. */
export function changed<T extends Record<string, unknown>>(before: T, next: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(next) as (keyof T)[]) {
    if (JSON.stringify(next[k] ?? "") !== JSON.stringify(before[k] ?? "")) out[k] = next[k];
  }
  return out;
}
