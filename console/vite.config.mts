/**
 * The web console's build: `vite build` (run by `npm install`'s postinstall) writes console/dist,
 * which the NestJS service serves at `/`. `npx vite --config console/vite.config.mts` serves it with
 * hot reload and proxies the API to SCF_URL (default http://127.0.0.1:3000).
 */
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const API = process.env.SCF_URL ?? "http://127.0.0.1:3000";
const API_PREFIXES = ["auth", "acts", "eip712", "receivables", "credit-lines", "financings", "financing-offers", "settlement", "participants", "onboarding", "compliance", "audit", "health", "payment-records"];

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: Object.fromEntries(API_PREFIXES.map((p) => [`/${p}`, API])) },
});
