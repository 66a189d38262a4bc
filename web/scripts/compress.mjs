// After `vite build`: writes a gzip twin of every asset (billingd serves it
// to browsers that accept gzip) and checks the first-load budget: the JS and
// CSS that index.html loads must stay within 250 KB gzipped.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";

const dist = new URL("../../internal/console/dist/", import.meta.url);
const budget = 250 * 1024;
const sizes = new Map();
for (const name of await readdir(new URL("assets/", dist))) {
  if (name.endsWith(".gz")) continue;
  const gz = gzipSync(await readFile(new URL(`assets/${name}`, dist)), { level: 9 }); // mtime 0: deterministic
  await writeFile(new URL(`assets/${name}.gz`, dist), gz);
  sizes.set(name, gz.length);
}
const index = await readFile(new URL("index.html", dist), "utf8");
const loaded = [...index.matchAll(/(?:src|href)="\/console\/assets\/([^"]+)"/g)].map((m) => m[1]);
const total = loaded.reduce((s, n) => s + (sizes.get(n) ?? 0), 0);
console.log(`first load: ${loaded.join(", ")} = ${(total / 1024).toFixed(1)} KB gzipped (budget ${budget / 1024} KB)`);
if (total > budget) {
  console.error("the console's first load is over budget");
  process.exit(1);
}
