#!/usr/bin/env node
// A new admin's first ten minutes with the bot, in the Microsoft 365 Agents Playground's web page,
// driven with playwright-core in Debian's Chromium (headless; no browser download).
//
//   node tools/e2e/walk.mjs --url http://127.0.0.1:PORT --out DIR [--bot-name NAME] [--chromium PATH]
//
// It only drives the page and writes down what it saw: DIR/walk.json (one entry per step: ok, error,
// the text of the cards the bot answered with, the invoke requests and responses, ...) and a PNG per
// step. The checks against what the bot should say live in tests/e2e/test_playground.py, which
// computes them with the bot's own code. Exit code: 0 every step ran, 1 a step failed (walk.json
// says which and why), 2 bad arguments or no browser.
//
// Started by tools/e2e/stack.py, which runs the bot and the Playground first.

import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--font-render-hinting=none",
];
const STEP_TIMEOUT = 20000;
// Top-level rendered cards only (Action.ShowCard nests one card in another).
const CARD = ".ac-adaptiveCard:not(.ac-adaptiveCard .ac-adaptiveCard)";
const COMPOSER = "div[role=textbox][contenteditable=true]";
const INVOKE_SENT = "Your response was sent to the app"; // the Playground's banner under a card

function parseArgs(argv) {
  const opts = { url: null, out: null, botName: "SMTP AUTH Readiness", chromium: process.env.CHROMIUM_PATH || "/usr/bin/chromium" };
  for (let i = 0; i < argv.length; i++) {
    const next = () => { if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`); return argv[++i]; };
    switch (argv[i]) {
      case "--url": opts.url = next().replace(/\/$/, ""); break;
      case "--out": opts.out = next(); break;
      case "--bot-name": opts.botName = next(); break;
      case "--chromium": opts.chromium = next(); break;
      default: usage(`unknown argument "${argv[i]}"`);
    }
  }
  if (!opts.url || !opts.out) usage("--url and --out are required");
  return opts;
}

function usage(msg) {
  process.stderr.write(`walk.mjs: ${msg}\nusage: node tools/e2e/walk.mjs --url http://127.0.0.1:PORT --out DIR [--bot-name NAME] [--chromium PATH]\n`);
  process.exit(2);
}

const clean = s => String(s || "").replace(/\s+/g, " ").trim();

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.chromium)) {
    process.stderr.write(`walk.mjs: Chromium not found at ${opts.chromium}\n`);
    process.exit(2);
  }
  fs.mkdirSync(opts.out, { recursive: true });
  const started = Date.now();
  const report = {
    url: opts.url, botName: opts.botName, startedAt: new Date().toISOString(),
    steps: [], blockedRequests: [], pageErrors: [], consoleErrors: [],
  };

  const browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
  report.browser = `Chromium ${browser.version()}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US", reducedMotion: "reduce" });
  // Loopback only: every other request is aborted and written down (fonts and an animation script
  // from Microsoft's CDN, as it turns out; the page works without them).
  await context.route("**/*", route => {
    const u = new URL(route.request().url());
    if (u.hostname === "127.0.0.1" || u.hostname === "localhost") return route.continue();
    if (!report.blockedRequests.includes(u.href)) report.blockedRequests.push(u.href);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("pageerror", e => report.pageErrors.push(String(e && e.message || e)));
  page.on("console", m => {
    if (m.type() === "error" && !/ERR_BLOCKED_BY_CLIENT|Failed to load worklet|Failed to load resource/.test(m.text())) {
      report.consoleErrors.push(m.text().slice(0, 500));
    }
  });
  // What the page sends the Playground's server: user messages, invokes, submits, custom activities.
  const sent = [];
  page.on("request", r => {
    if (r.method() !== "POST") return;
    const u = new URL(r.url());
    if (!/^\/(_conversation|_internal|_debug)\//.test(u.pathname)) return;
    let body = null;
    try { body = r.postDataJSON(); } catch { body = r.postData(); }
    sent.push({ path: u.pathname, body });
  });

  // --- helpers --------------------------------------------------------------------------------
  const cards = () => page.locator(CARD);
  const cardTexts = async () => (await cards().allInnerTexts()).map(clean);

  async function shot(name) {
    const file = `${name}.png`;
    await page.screenshot({ path: path.join(opts.out, file) });
    return file;
  }

  // Wait until the conversation shows more cards than `before`; the newest card's text.
  async function nextCard(before, what) {
    try {
      await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [CARD, before], { timeout: STEP_TIMEOUT });
    } catch {
      throw new Error(`no new card after ${what} within ${STEP_TIMEOUT / 1000} s (cards on the page: ${before})`);
    }
    const card = cards().last();
    await card.scrollIntoViewIfNeeded();
    return { card, text: clean(await card.innerText()) };
  }

  async function say(text) {
    const before = await cards().count();
    const box = page.locator(COMPOSER).last();
    await box.click();
    await box.fill(text);
    await page.getByRole("button", { name: "Send Message" }).last().click();
    return nextCard(before, `sending "${text}"`);
  }

  // Press an Action.Execute button on `card`: returns the invoke the page sent, the bot's answer,
  // and whether the card was re-rendered in place (same position, no new message, old DOM gone).
  async function execute(card, title) {
    const before = await cards().count();
    const index = (await cards().evaluateAll((els, target) => els.indexOf(target), await card.elementHandle()));
    await card.evaluate(el => el.setAttribute("data-e2e-old", "1"));
    const bannersBefore = await page.getByText(INVOKE_SENT).count();
    const sentBefore = sent.length;
    const responsePromise = page.waitForResponse(r => r.url().endsWith("/_conversation/v1/invoke") && r.request().method() === "POST");
    await card.getByRole("button", { name: title, exact: true }).click();
    const response = await responsePromise;
    let answer = null;
    try { answer = await response.json(); } catch { answer = await response.text(); }
    // The Playground's note under the card, for a card or a message answer ("Your response was sent to the app").
    await page.waitForFunction(([text, n]) => document.body.innerText.split(text).length - 1 > n, [INVOKE_SENT, bannersBefore], { timeout: 5000 }).catch(() => {});
    const bannersAfter = await page.getByText(INVOKE_SENT).count();
    // The Playground swaps the attachment in its store; give React a moment to re-render.
    await page.waitForFunction(() => !document.querySelector("[data-e2e-old]"), null, { timeout: 5000 }).catch(() => {});
    const after = cards().nth(index);
    const invoke = sent.slice(sentBefore).find(s => s.path.endsWith("/invoke"));
    return {
      request: invoke ? invoke.body : null,
      responseStatus: response.status(),
      response: answer,
      bannerShown: bannersAfter > bannersBefore,
      cardsBefore: before,
      cardsAfter: await cards().count(),
      oldCardStillInPage: (await page.locator("[data-e2e-old]").count()) > 0,
      textAfter: clean(await after.innerText()),
      card: after,
    };
  }

  // "Mock an Activity › Custom activity": the Playground's own way to send any activity; the
  // only way to send a message with another locale (its UI always sends en-US).
  async function customActivity(conversationId, changes) {
    const template = await (await page.request.get(`${opts.url}/_internal/v1/customActivities/template?conversationId=${encodeURIComponent(conversationId)}`)).json();
    const activity = { ...template, ...changes };
    await page.getByRole("button", { name: "Mock an Activity" }).click();
    await page.getByRole("menuitem", { name: "Custom activity" }).click();
    const dialog = page.getByRole("dialog", { name: "Custom activity" });
    await dialog.locator(".monaco-editor").first().click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.press("Delete");
    // One line: the editor re-indents and auto-closes brackets on typed newlines.
    await page.keyboard.insertText(JSON.stringify(activity));
    await dialog.getByRole("button", { name: "Send activity" }).click();
    await dialog.waitFor({ state: "hidden" });
    return activity;
  }

  async function step(name, fn) {
    const entry = { name, ok: false, ms: 0 };
    const t0 = Date.now();
    try {
      Object.assign(entry, await fn());
      entry.ok = true;
    } catch (e) {
      entry.error = String(e && e.message || e).split("\n").slice(0, 6).join("\n");
      try { entry.failureShot = await shot(`failed-${name}`); } catch { /* page gone */ }
    }
    entry.ms = Date.now() - t0;
    delete entry.card;
    report.steps.push(entry);
    process.stdout.write(`${entry.ok ? "ok  " : "FAIL"} ${name} (${(entry.ms / 1000).toFixed(1)} s)${entry.ok ? "" : ": " + entry.error}\n`);
    return entry;
  }

  // --- the walk -------------------------------------------------------------------------------
  let config = null;
  let statusCard = null;
  let jaStatusCard = null;
  let alertsCard = null;

  await step("open", async () => {
    config = await (await page.request.get(`${opts.url}/_internal/v1/config`)).json();
    const sentBefore = sent.length;
    await page.goto(`${opts.url}/`, { waitUntil: "load" });
    // Opening the page installs the app in the personal chat: installationUpdate + conversationUpdate.
    const { text } = await nextCard(0, "opening the Playground (app installed in the personal chat)");
    return {
      playground: config.internalConfig || null,
      currentUser: config.config.currentUser,
      personalChatId: config.config.personalChat.id,
      welcome: text,
      requests: sent.slice(sentBefore).map(s => s.path),
      shot: await shot("01-personal-welcome"),
    };
  });

  await step("help", async () => {
    const { text } = await say("/help");
    return { text, shot: await shot("02-help") };
  });

  await step("status", async () => {
    const { card, text } = await say("/status");
    statusCard = card;
    await card.evaluate(el => el.scrollIntoView({ block: "start" }));
    return { text, shot: await shot("03-status") };
  });

  await step("status-refresh", async () => {
    if (!statusCard) throw new Error("no /status card to press Refresh on");
    const result = await execute(statusCard, "Refresh");
    statusCard = result.card;
    await result.card.scrollIntoViewIfNeeded();
    return { ...result, shot: await shot("04-status-refreshed") };
  });

  await step("timeline-button", async () => {
    // The status card's "Timeline" button is an Action.Submit with an imBack value.
    if (!statusCard) throw new Error("no /status card");
    const before = await cards().count();
    const sentBefore = sent.length;
    await statusCard.getByRole("button", { name: "Timeline", exact: true }).click();
    const { text } = await nextCard(before, 'pressing "Timeline" (Action.Submit, imBack)');
    return { text, request: sent.slice(sentBefore)[0] || null, shot: await shot("05-timeline-button") };
  });

  await step("timeline", async () => {
    const { text } = await say("/timeline");
    return { text };
  });

  for (const command of ["/help", "/status", "/timeline"]) {
    const name = `ja-${command.slice(1)}`;
    await step(name, async () => {
      const before = await cards().count();
      const activity = await customActivity(config.config.personalChat.id, {
        type: "message", text: command, textFormat: "plain", locale: "ja-JP",
        localTimezone: "Asia/Tokyo",
        entities: [{ type: "clientInfo", locale: "ja-JP", country: "JP", platform: "Web", timezone: "Asia/Tokyo" }],
      });
      const { card, text } = await nextCard(before, `a custom ${command} activity with locale ja-JP`);
      if (command === "/status") {
        jaStatusCard = card;
        await card.evaluate(el => el.scrollIntoView({ block: "start" }));
      }
      return { text, sentLocale: activity.locale, shot: await shot(`06-${name}`) };
    });
  }

  await step("ja-status-refresh", async () => {
    if (!jaStatusCard) throw new Error("no Japanese /status card");
    const result = await execute(jaStatusCard, "更新");
    return result;
  });

  await step("channel-install", async () => {
    const sentBefore = sent.length;
    const before = await cards().count();
    await page.getByRole("treeitem", { name: "My Team - General" }).click();
    // Selecting the channel installs the app in the team: installationUpdate + conversationUpdate.
    await page.getByRole("button", { name: "Post" }).waitFor();
    const { text } = await nextCard(0, "opening My Team › General (app added to the team)").catch(async e => {
      throw new Error(`${e.message}; cards before switching: ${before}`);
    });
    return { text, requests: sent.slice(sentBefore).map(s => s.path), shot: await shot("07-channel-welcome") };
  });

  await step("channel-subscribe", async () => {
    const before = await cards().count();
    const box = page.locator(COMPOSER).first(); // "Start a new post"
    await box.click();
    await box.pressSequentially("@");
    await page.getByRole("menuitem", { name: opts.botName }).click();
    await box.pressSequentially(" /subscribe");
    const sentBefore = sent.length;
    await page.getByRole("button", { name: "Post" }).click();
    const { card, text } = await nextCard(before, "posting @bot /subscribe in the channel");
    alertsCard = card;
    await card.evaluate(el => el.scrollIntoView({ block: "start" }));
    const message = sent.slice(sentBefore).find(s => s.path.endsWith("/messages"));
    return { text, request: message ? message.body : null, shot: await shot("08-channel-subscribed") };
  });

  await step("alerts-save", async () => {
    // Change an input, then Save: an Action.Execute whose data carries the card's inputs.
    if (!alertsCard) throw new Error("no /subscribe card");
    const zone = alertsCard.getByRole("textbox", { name: /Time zone/ });
    await zone.fill("Europe/Berlin");
    const result = await execute(alertsCard, "Save");
    alertsCard = result.card;
    return { ...result, shot: await shot("09-alerts-saved") };
  });

  await step("alerts-unsubscribe", async () => {
    if (!alertsCard) throw new Error("no alerts card");
    const result = await execute(alertsCard, "Unsubscribe");
    alertsCard = result.card;
    return { ...result, shot: await shot("10-alerts-unsubscribed") };
  });

  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  report.requestsSent = sent.map(s => s.path);
  await browser.close();
  fs.writeFileSync(path.join(opts.out, "walk.json"), JSON.stringify(report, null, 2) + "\n");
  const failed = report.steps.filter(s => !s.ok).length;
  process.stdout.write(`walk: ${report.steps.length} steps, ${failed} failed, ${report.seconds} s; ${path.join(opts.out, "walk.json")}\n`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => {
  process.stderr.write(`walk.mjs: ${e && e.stack || e}\n`);
  process.exit(1);
});
