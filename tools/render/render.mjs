#!/usr/bin/env node
// Card gallery: renders every Adaptive Card JSON file in a folder to PNG with Microsoft's
// Adaptive Cards JavaScript renderer (npm "adaptivecards") in headless Chromium, using the
// Microsoft Teams host config shipped in "adaptivecards-designer".
//
//   node tools/render/render.mjs --in DIR --out DIR [--widths 360,1024] [--theme light|dark]
//
// See tools/render/README.md. Exit codes: 0 all cards rendered cleanly, 1 a card failed (renderer
// threw, reported parse/validation warnings, rendered empty, invalid JSON) or, with
// --fail-on-overflow, something is cut off; 2 bad usage or setup (no Chromium, no node_modules).

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--font-render-hinting=none",
];

// Teams uses Segoe UI; it is not on Linux. Liberation Sans (Arial metrics, Debian fonts-liberation)
// is the Latin fallback, Noto Sans CJK JP (Debian fonts-noto-cjk) covers Japanese.
const FONT_FAMILY = "'Segoe UI', 'Liberation Sans', 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif";
const MONO_FONT_FAMILY = "'Courier New', 'Liberation Mono', 'Noto Sans Mono CJK JP', monospace";

const REQUIRED_FONTS = [
  { family: "Noto Sans CJK JP", why: "Japanese text would render with another font or as empty boxes",
    install: "apt-get install -y fonts-noto-cjk" },
];
const OPTIONAL_FONTS = [
  { family: "Liberation Sans", why: "Latin text falls back to a wider font than Teams' Segoe UI",
    install: "apt-get install -y fonts-liberation" },
];

class SetupError extends Error {}

const THEMES = {
  light: { pageBackground: "#f5f5f5", cardBorder: "#e1dfdd" },
  dark: { pageBackground: "#1f1f1f", cardBorder: "#3b3a39" },
};

function usage(msg) {
  if (msg) process.stderr.write(`render.mjs: ${msg}\n`);
  process.stderr.write(
    "usage: node tools/render/render.mjs --in DIR --out DIR [--widths 360,1024] [--theme light|dark]\n" +
    "                                    [--chromium /usr/bin/chromium] [--fail-on-overflow] [--no-show-cards]\n" +
    "                                    [--scale 1|2|3]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    inDir: null, outDir: null, widths: [360, 1024], theme: "light",
    chromium: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    failOnOverflow: false, showCards: true, scale: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case "--in": opts.inDir = value(); break;
      case "--out": opts.outDir = value(); break;
      case "--widths": {
        const v = value();
        opts.widths = v.split(",").map(s => s.trim()).filter(Boolean).map(Number);
        if (!opts.widths.length || opts.widths.some(w => !Number.isInteger(w) || w < 100 || w > 4000)) {
          usage(`--widths must be comma-separated integers between 100 and 4000, got "${v}"`);
        }
        break;
      }
      case "--theme": opts.theme = value(); break;
      case "--chromium": opts.chromium = value(); break;
      case "--scale": {
        const v = value();
        opts.scale = Number(v);
        if (![1, 2, 3].includes(opts.scale)) usage(`--scale must be 1, 2 or 3, got "${v}"`);
        break;
      }
      case "--fail-on-overflow": opts.failOnOverflow = true; break;
      case "--no-show-cards": opts.showCards = false; break;
      case "-h": case "--help": usage(); break;
      default: usage(`unknown argument "${a}"`);
    }
  }
  if (!opts.inDir || !opts.outDir) usage("--in and --out are required");
  if (!THEMES[opts.theme]) usage(`--theme must be light or dark, got "${opts.theme}"`);
  return opts;
}

function packageDir(name) {
  // package.json of these packages is not always exported; walk up from the resolved entry point.
  let dir;
  try {
    dir = path.dirname(require.resolve(name));
  } catch (e) {
    const local = path.join(HERE, "node_modules", name);
    if (fs.existsSync(local)) return local;
    throw new Error(`npm package "${name}" not found: run "npm ci" in ${HERE}`);
  }
  while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function loadVendorFiles(theme) {
  const ac = packageDir("adaptivecards");
  const designer = path.join(HERE, "node_modules", "adaptivecards-designer");
  const mdit = packageDir("markdown-it");
  const files = {
    "/": { file: path.join(HERE, "page.html"), type: "text/html; charset=utf-8" },
    // The unminified bundle, so that a renderer exception names the function it came from.
    "/vendor/adaptivecards.js": { file: path.join(ac, "dist", "adaptivecards.js"), type: "text/javascript" },
    "/vendor/adaptivecards.css": { file: path.join(ac, "dist", "adaptivecards.css"), type: "text/css" },
    "/vendor/markdown-it.min.js": { file: path.join(mdit, "dist", "browser", "markdown-it.umd.min.js"), type: "text/javascript" },
    "/vendor/teams-container.css": {
      file: path.join(designer, "dist", "containers", `teams-container-${theme}.css`), type: "text/css",
    },
  };
  const hostConfigFile = path.join(designer, "lib", "hostConfigs", `microsoft-teams-${theme}.json`);
  for (const f of [...Object.values(files).map(v => v.file), hostConfigFile]) {
    if (!fs.existsSync(f)) throw new Error(`missing ${f}: run "npm ci" in ${HERE}`);
  }
  const hostConfig = JSON.parse(fs.readFileSync(hostConfigFile, "utf8"));
  hostConfig.fontTypes.default.fontFamily = FONT_FAMILY;
  hostConfig.fontTypes.monospace.fontFamily = MONO_FONT_FAMILY;
  const versions = {
    adaptivecards: JSON.parse(fs.readFileSync(path.join(ac, "package.json"), "utf8")).version,
    "adaptivecards-designer": JSON.parse(fs.readFileSync(path.join(designer, "package.json"), "utf8")).version,
    "markdown-it": JSON.parse(fs.readFileSync(path.join(mdit, "package.json"), "utf8")).version,
  };
  return { files, hostConfig, versions };
}

function startServer(files) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const entry = files[url.pathname];
    if (!entry || req.method !== "GET") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": entry.type, "cache-control": "max-age=3600" });
    fs.createReadStream(entry.file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function loadCards(inDir) {
  let names;
  try {
    names = fs.readdirSync(inDir).filter(n => n.toLowerCase().endsWith(".json")).sort();
  } catch (e) {
    usage(`cannot read --in ${inDir}: ${e.message}`);
  }
  return names.map(file => {
    const base = file.slice(0, -".json".length);
    const entry = { file, base, name: base, lang: "en", payload: null, loadError: null };
    let data;
    try {
      data = JSON.parse(fs.readFileSync(path.join(inDir, file), "utf8"));
    } catch (e) {
      entry.loadError = `invalid JSON: ${e.message}`;
      return entry;
    }
    if (data && typeof data === "object" && !Array.isArray(data) && data.type !== "AdaptiveCard" && "card" in data) {
      if (typeof data.name === "string" && data.name) entry.name = data.name;
      if (typeof data.lang === "string" && data.lang) entry.lang = data.lang;
      data = data.card;
    }
    if (!data || typeof data !== "object" || Array.isArray(data) || data.type !== "AdaptiveCard") {
      entry.loadError = 'not an Adaptive Card: expected {"type": "AdaptiveCard", ...} or {"card": {...}, "name": ..., "lang": ...}';
      return entry;
    }
    if (typeof data.lang === "string" && data.lang && entry.lang === "en") entry.lang = data.lang;
    entry.payload = data;
    return entry;
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]);
}

// #frame sits at the page's top-left corner and is exactly `width` px wide.
async function shoot(page, file, width, height) {
  await page.screenshot({ path: file, clip: { x: 0, y: 0, width, height: Math.max(1, height) }, fullPage: true });
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function formatWarning(w) {
  return `${w.event || "warning"}${w.source ? ` (${w.source})` : ""}: ${w.message}`;
}

function formatOverflow(o) {
  const why = o.reasons.map(r => `${r.kind} by ${r.by_px}px`).join(", ");
  return `${o.element}${o.text ? ` "${o.text}"` : ""}: ${why}`;
}

function writeIndex(outDir, report) {
  const theme = report.theme;
  const bg = THEMES[theme].pageBackground;
  const fg = theme === "dark" ? "#eee" : "#222";
  const rows = report.cards.map(c => {
    const status = c.ok ? (c.problems.length ? "problems" : "ok") : "FAILED";
    const notes = [
      ...c.errors.map(e => `<li class="err">${escapeHtml(e)}</li>`),
      ...c.warnings.map(w => `<li class="err">${escapeHtml(formatWarning(w))}</li>`),
      ...c.problems.map(p => `<li class="warn">${escapeHtml(p)}</li>`),
      ...c.notes.map(n => `<li>${escapeHtml(n)}</li>`),
    ].join("");
    const shots = report.widths.map(w => {
      const r = c.widths[w];
      if (!r || !r.png) return `<figure><figcaption>${w}px: not rendered</figcaption></figure>`;
      const extra = (r.showCards || []).filter(s => s.png).map(s =>
        `<figure><figcaption>${w}px, after clicking "${escapeHtml(s.title)}"</figcaption>` +
        `<a href="${encodeURI(s.png)}"><img src="${encodeURI(s.png)}" width="${w}" loading="lazy"></a></figure>`).join("");
      return `<figure><figcaption>${w}px (${r.heightPx}px high)</figcaption>` +
        `<a href="${encodeURI(r.png)}"><img src="${encodeURI(r.png)}" width="${w}" loading="lazy"></a></figure>${extra}`;
    }).join("");
    return `<section id="${escapeHtml(c.base)}" class="${status}">` +
      `<h2>${escapeHtml(c.name)} <small>${escapeHtml(c.file)} · lang ${escapeHtml(c.lang)} · ${status}</small></h2>` +
      (notes ? `<ul>${notes}</ul>` : "") + `<div class="shots">${shots}</div></section>`;
  }).join("\n");
  const toc = report.cards.map(c =>
    `<li><a href="#${escapeHtml(c.base)}">${escapeHtml(c.name)}</a>${c.ok ? (c.problems.length ? " ⚠" : "") : " ✗"}</li>`).join("");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Adaptive Card gallery</title>
<style>
body{font-family:system-ui,sans-serif;background:${bg};color:${fg};margin:16px}
section{margin:24px 0;padding-top:8px;border-top:1px solid #8884}
h2 small{font-weight:normal;font-size:13px;opacity:.7}
.shots{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
figure{margin:0} figcaption{font-size:12px;opacity:.7;margin-bottom:4px}
img{display:block;max-width:100%;height:auto;box-shadow:0 0 0 1px #8884}
li.err{color:#c4314b} li.warn{color:#b7791f}
section.FAILED h2{color:#c4314b}
</style></head><body>
<h1>Adaptive Card gallery</h1>
<p>${report.cards.length} cards · widths ${report.widths.join(", ")} px · theme ${theme} · adaptivecards ${report.renderer.adaptivecards}
· Teams host config from adaptivecards-designer ${report.renderer["adaptivecards-designer"]} · ${escapeHtml(report.renderer.browser)}
· ${report.summary.failed} failed · ${report.summary.withProblems} with layout problems</p>
<ul>${toc}</ul>
${rows}
</body></html>
`;
  fs.writeFileSync(path.join(outDir, "index.html"), html);
}

async function main() {
  const started = Date.now();
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.chromium)) {
    process.stderr.write(`render.mjs: Chromium not found at ${opts.chromium} (apt-get install -y chromium, or --chromium PATH)\n`);
    process.exit(2);
  }
  let playwright, vendor;
  try {
    playwright = await import("playwright-core");
    vendor = loadVendorFiles(opts.theme);
  } catch (e) {
    const hint = e && e.code === "ERR_MODULE_NOT_FOUND" ? ` (run "npm ci" in ${HERE})` : "";
    process.stderr.write(`render.mjs: ${e.message}${hint}\n`);
    process.exit(2);
  }

  const cards = loadCards(opts.inDir);
  if (!cards.length) {
    process.stderr.write(`render.mjs: no *.json cards in ${opts.inDir}\n`);
    process.exit(1);
  }
  fs.mkdirSync(opts.outDir, { recursive: true });

  const server = await startServer(vendor.files);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await playwright.chromium.launch({
    executablePath: opts.chromium, headless: true, args: CHROMIUM_ARGS, timeout: 60000,
  });
  const browserVersion = browser.version();
  const results = new Map(cards.map(c => [c.base, {
    file: c.file, base: c.base, name: c.name, lang: c.lang, ok: true,
    errors: c.loadError ? [c.loadError] : [], warnings: [], problems: [], notes: [], widths: {},
  }]));
  let current = null; // result object of the card being rendered, for page errors
  try {
    const context = await browser.newContext({
      viewport: { width: opts.widths[0], height: 600 }, deviceScaleFactor: opts.scale, locale: "en-US",
      reducedMotion: "reduce", serviceWorkers: "block", colorScheme: opts.theme,
    });
    await context.route("**/*", route => {
      const u = new URL(route.request().url());
      if (u.hostname === "127.0.0.1" || u.hostname === "localhost") return route.continue();
      if (current) current.blockedUrls.add(u.href);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("pageerror", err => {
      const msg = `uncaught error in the page: ${err && err.stack || err}`;
      if (current) current.result.errors.push(msg); else process.stderr.write(`render.mjs: ${msg}\n`);
    });
    page.on("console", msg => {
      const type = msg.type();
      if (type !== "error" && type !== "warning") return;
      const text = msg.text();
      if (/Failed to load resource|ERR_BLOCKED_BY_CLIENT|ERR_FAILED/.test(text)) return; // blocked external URLs
      if (current) current.result.warnings.push({ where: "console", event: `console.${type}`, source: "", message: text });
      else process.stderr.write(`render.mjs: page console.${type}: ${text}\n`);
    });
    await page.goto(origin + "/", { waitUntil: "load" });
    const fonts = await page.evaluate(fams => Object.fromEntries(fams.map(f => [f, window.acFontInstalled(f)])),
      [...REQUIRED_FONTS, ...OPTIONAL_FONTS].map(f => f.family));
    for (const f of REQUIRED_FONTS) {
      if (!fonts[f.family]) throw new SetupError(`font "${f.family}" is not installed: ${f.why} (${f.install})`);
    }
    for (const f of OPTIONAL_FONTS) {
      if (!fonts[f.family]) process.stderr.write(`render.mjs: warning: font "${f.family}" is not installed: ${f.why} (${f.install})\n`);
    }
    await page.evaluate(cfg => window.acSetup(cfg), {
      hostConfig: vendor.hostConfig, fontFamily: FONT_FAMILY,
      pageBackground: THEMES[opts.theme].pageBackground, cardBorder: THEMES[opts.theme].cardBorder,
    });

    for (const width of opts.widths) {
      await page.setViewportSize({ width, height: 600 });
      for (const card of cards) {
        const result = results.get(card.base);
        if (!card.payload) continue;
        current = { result, blockedUrls: new Set() };
        const w = { png: null, heightPx: null, cardHeightPx: null, overflow: [], showCards: [] };
        result.widths[width] = w;
        try {
          const r = await withTimeout(
            page.evaluate(([p, wd, l]) => window.acRender(p, wd, l), [card.payload, width, card.lang]),
            30000, "rendering");
          result.errors.push(...r.errors.filter(e => !result.errors.includes(e)));
          for (const note of r.notes || []) if (!result.notes.includes(note)) result.notes.push(note);
          for (const warn of r.warnings) {
            if (!result.warnings.some(x => x.message === warn.message && x.event === warn.event)) result.warnings.push(warn);
          }
          if (r.heightPx !== undefined) {
            w.heightPx = r.heightPx;
            w.cardHeightPx = r.cardHeightPx;
            w.overflow = r.overflow;
            w.png = `${card.base}.${width}.png`;
            await shoot(page, path.join(opts.outDir, w.png), width, r.heightPx);
            for (const o of r.overflow) result.problems.push(`at ${width}px: ${formatOverflow(o)}`);
            if (opts.showCards) {
              for (let n = 0; n < r.showCards; n++) {
                const s = await withTimeout(page.evaluate(i => window.acToggleShowCard(i), n), 30000, "expanding Action.ShowCard");
                const entry = { title: s.title, heightPx: s.heightPx, overflow: s.overflow, png: null };
                if (s.expanded) {
                  entry.png = `${card.base}.${width}.showcard${n + 1}.png`;
                  await shoot(page, path.join(opts.outDir, entry.png), width, s.heightPx);
                  for (const o of s.overflow) {
                    const p = `at ${width}px with "${s.title}" expanded: ${formatOverflow(o)}`;
                    if (!r.overflow.some(x => formatOverflow(x) === formatOverflow(o))) result.problems.push(p);
                  }
                }
                w.showCards.push(entry);
                await page.evaluate(i => window.acCollapseShowCard(i), n);
              }
            }
          }
        } catch (e) {
          result.errors.push(`renderer failed at ${width}px: ${e && e.message || e}`);
        }
        for (const u of current.blockedUrls) {
          const note = `blocked non-local request (shown as broken/empty): ${u}`;
          if (!result.notes.includes(note)) result.notes.push(note);
        }
        current = null;
      }
    }
  } finally {
    await browser.close().catch(() => {});
    server.close();
  }

  let failed = 0;
  let withProblems = 0;
  for (const r of results.values()) {
    r.ok = r.errors.length === 0 && r.warnings.length === 0 && !(opts.failOnOverflow && r.problems.length);
    if (!r.ok) failed++;
    if (r.problems.length) withProblems++;
  }
  const report = {
    generatedBy: "tools/render/render.mjs",
    renderer: { ...vendor.versions, browser: `Chromium ${browserVersion}`, hostConfig: `microsoft-teams-${opts.theme}.json`, targetVersion: "1.5" },
    theme: opts.theme,
    widths: opts.widths,
    scale: opts.scale,
    failOnOverflow: opts.failOnOverflow,
    summary: { cards: cards.length, failed, withProblems, seconds: Math.round((Date.now() - started) / 100) / 10 },
    cards: [...results.values()],
  };
  fs.writeFileSync(path.join(opts.outDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  writeIndex(opts.outDir, report);

  for (const r of results.values()) {
    if (r.ok && !r.problems.length) continue;
    const label = r.ok ? "PROBLEM" : "FAIL";
    const lines = [
      ...r.errors,
      ...r.warnings.map(formatWarning),
      ...r.problems.map(p => (opts.failOnOverflow ? "" : "(not failing) ") + p),
    ];
    process.stderr.write(`${label} ${r.file} (${r.name}):\n${lines.map(l => `    ${l}`).join("\n")}\n`);
  }
  process.stdout.write(
    `rendered ${cards.length} card(s) x ${opts.widths.length} width(s) [${opts.widths.join(", ")}] ` +
    `in ${report.summary.seconds}s: ${cards.length - failed} ok, ${failed} failed, ${withProblems} with layout problems; ` +
    `gallery ${path.join(opts.outDir, "index.html")}\n`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => {
  if (e instanceof SetupError) {
    process.stderr.write(`render.mjs: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`render.mjs: ${e && e.stack || e}\n`);
  process.exit(1);
});
