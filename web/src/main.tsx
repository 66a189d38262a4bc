import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router";
import { AuthProvider, restore } from "./auth";
import { Layout } from "./Layout";
import { BillsPage } from "./pages/Bills";
import { CatalogPage } from "./pages/Catalog";
import { PricingPage } from "./pages/Pricing";
import { CustomersPage } from "./pages/Customers";
import { MonthsPage } from "./pages/Months";
import { AccessPage } from "./pages/Access";
import { UsagePage } from "./pages/Usage";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 30_000 } },
});

const router = createBrowserRouter(
  [
    {
      path: "/",
      element: <Layout />,
      children: [
        { index: true, element: <Navigate to="/bills" replace /> },
        { path: "bills", element: <BillsPage /> },
        { path: "usage", element: <UsagePage /> },
        { path: "catalog", element: <CatalogPage /> },
        { path: "pricing", element: <PricingPage /> },
        { path: "customers", element: <CustomersPage /> },
        { path: "months", element: <MonthsPage /> },
        { path: "access", element: <AccessPage /> },
        { path: "*", element: <p role="alert">No such page.</p> },
      ],
    },
  ],
  { basename: "/console" },
);

const principal = await restore();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <AuthProvider initial={principal}>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>
  </StrictMode>,
);
