import { createContext, useContext, useState, type ReactNode } from "react";
import { api, ApiError, ok, session, type Schemas } from "./api/client";

/** Who is signed in: what the API lets this key do, found by asking it. */
export type Principal = {
  admin: boolean;
  /** The customers the key may read (a tenant key: exactly one). */
  customers: Schemas["v1Customer"][];
};

type AuthState = { principal: Principal | null; signIn: (key: string) => Promise<void>; signOut: () => void };

const AuthContext = createContext<AuthState | null>(null);

/** whoAmI learns the key's role from two API calls: listing keys needs admin,
 *  and a scoped key lists only its own customer. */
async function whoAmI(): Promise<Principal> {
  const keys = await api.GET("/v1/apiKeys", { params: { query: { pageSize: 1 } } });
  if (keys.response.status === 401) throw new ApiError(401, keys.error);
  const admin = keys.response.ok;
  const customers: Schemas["v1Customer"][] = [];
  let pageToken: string | undefined;
  do {
    const page = await ok(api.GET("/v1/customers", { params: { query: { pageSize: 1000, pageToken } } }));
    customers.push(...(page.customers ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return { admin, customers };
}

export function AuthProvider({ children, initial }: { children: ReactNode; initial: Principal | null }) {
  const [principal, setPrincipal] = useState<Principal | null>(initial);
  async function signIn(key: string) {
    session.set(key);
    try {
      setPrincipal(await whoAmI());
    } catch (e) {
      session.clear();
      throw e;
    }
  }
  function signOut() {
    session.clear();
    setPrincipal(null);
  }
  return <AuthContext.Provider value={{ principal, signIn, signOut }}>{children}</AuthContext.Provider>;
}

/** restore signs the tab back in after a reload, if its key still works. */
export async function restore(): Promise<Principal | null> {
  if (!session.get()) return null;
  try {
    return await whoAmI();
  } catch {
    session.clear();
    return null;
  }
}

export function useAuth(): AuthState {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}

/** usePrincipal is the signed-in principal (routes below sign-in only). */
export function usePrincipal(): Principal {
  const p = useAuth().principal;
  if (!p) throw new Error("not signed in");
  return p;
}
