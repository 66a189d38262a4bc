import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build is embedded in billingd (internal/console, go:embed) and served
// at /console/; `make console` runs it, CI checks the committed copy is fresh.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "../internal/console/dist",
    emptyOutDir: true, // outside the web root Vite would keep stale hashed files
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800, // raw kB; the real budget (gzipped first load) is checked by scripts/compress.mjs
  },
  // `npm run dev` against a billingd on :8080 (it sends no CORS headers).
  server: { proxy: { "/v1": "http://127.0.0.1:8080" } },
});
