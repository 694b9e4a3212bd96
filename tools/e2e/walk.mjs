#!/usr/bin/env node
// A new admin's first ten minutes with the bot, in the Microsoft 365 Agents Playground's web page,
// driven with playwright-core in Debian's Chromium (headless; no browser download).
//
//   node tools/e2e/walk.mjs --url http://127.0.0.1:PORT --out DIR [--bot-name NAME] [--chromium PATH]
//
// It only drives the page and writes down what it saw: DIR/walk.json (one entry per step: ok, error,
// the text of the cards the bot answered with, the invoke requests and responses, ...) and a PNG per
// step. The checks against what the bot should say live in tests/e2e/test_playground.py, which
// computes them with the bot's own code. Exit code: 0 every step ran (or hit a known Playground
// limitation, marked in walk.json), 1 a step failed (walk.json says which and why), 2 bad arguments
// or no browser.
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
  // A card is followed through its message bubble (the Playground's "fai-OutputCard" element,
  // which stays when the Playground swaps the card inside it after an Action.Execute); the
  // bubble gets a data-e2e-card number, the card root inside it is the rendered card.
  const cards = () => page.locator(CARD);
  let tagged = 0;

  async function shot(name) {
    const file = `${name}.png`;
    await page.screenshot({ path: path.join(opts.out, file) });
    return file;
  }

  function bubble(n) {
    return page.locator(`[data-e2e-card="${n}"]`);
  }

  function cardIn(n) {
    return bubble(n).locator(CARD).first();
  }

  // Scroll card n to the top of its scrolling list, then `above` px back up (to show the message before it).
  async function reveal(n, above = 0) {
    await cardIn(n).evaluate((el, above) => {
      el.scrollIntoView({ block: "start" });
      let box = el.parentElement;
      while (box && !(box.scrollHeight > box.clientHeight && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (box) box.scrollTop -= above;
    }, above);
  }

  async function markSeen() {
    await page.evaluate(sel => document.querySelectorAll(sel).forEach(el => el.setAttribute("data-e2e-seen", "1")), CARD);
  }

  // Wait for a card that was not on the page at the last markSeen(); tag its bubble, return its number.
  async function nextCard(what) {
    const n = ++tagged;
    const found = await page.waitForFunction(([sel, n]) => {
      const fresh = Array.from(document.querySelectorAll(sel)).find(el => !el.hasAttribute("data-e2e-seen"));
      if (!fresh) return false;
      const holder = fresh.closest("[class*='fai-OutputCard']") || fresh.parentElement;
      holder.setAttribute("data-e2e-card", String(n));
      fresh.setAttribute("data-e2e-seen", "1");
      return true;
    }, [CARD, n], { timeout: STEP_TIMEOUT }).catch(() => null);
    if (!found) throw new Error(`no new card after ${what} within ${STEP_TIMEOUT / 1000} s`);
    const card = cardIn(n);
    await card.scrollIntoViewIfNeeded();
    return { n, text: clean(await card.innerText()) };
  }

  async function say(text) {
    await markSeen();
    const box = page.locator(COMPOSER).last();
    await box.click();
    await box.fill(text);
    await page.getByRole("button", { name: "Send Message" }).last().click();
    return nextCard(`sending "${text}"`);
  }

  // Press an Action.Execute button on card n: the invoke the page sent, the bot's answer, and what
  // the Playground did with it (a card answer replaces the card in its bubble, no new message).
  async function execute(n, title) {
    const before = await cards().count();
    const textBefore = clean(await cardIn(n).innerText());
    const sentBefore = sent.length;
    const responsePromise = page.waitForResponse(r => r.url().endsWith("/_conversation/v1/invoke") && r.request().method() === "POST");
    responsePromise.catch(() => {}); // awaited below; a failed click must not leave it unhandled
    await cardIn(n).getByRole("button", { name: title, exact: true }).click();
    const response = await responsePromise;
    let answer = null;
    try { answer = await response.json(); } catch { answer = await response.text(); }
    const first = answer && answer.value && Array.isArray(answer.value.body)
      ? answer.value.body.find(el => el && el.type === "TextBlock") : null;
    let applied = null;
    if (first) {
      // Wait until the bubble shows the answered card (its first TextBlock).
      applied = await page.waitForFunction(([n, text]) => {
        const el = document.querySelector(`[data-e2e-card="${n}"]`);
        return !!el && el.innerText.replace(/\s+/g, " ").includes(text);
      }, [n, clean(first.text)], { timeout: 5000 }).then(() => true, () => false);
    }
    const banner = await page.locator(`[data-e2e-card="${n}"]`).locator("xpath=..").getByText(INVOKE_SENT).count()
      .catch(() => 0);
    const invoke = sent.slice(sentBefore).find(s => s.path.endsWith("/invoke"));
    return {
      request: invoke ? invoke.body : null,
      responseStatus: response.status(),
      response: answer,
      answeredCardShown: applied,
      banner: banner > 0 || (await page.getByText(INVOKE_SENT).count()) > 0,
      cardsBefore: before,
      cardsAfter: await cards().count(),
      textBefore,
      textAfter: clean(await cardIn(n).innerText()),
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

  // `known`: an error that is a known limitation of the Playground (kept in walk.json, not counted
  // as a failure of the walk; the tests decide what it means).
  async function step(name, fn, known = null) {
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
    if (!entry.ok && known && known.pattern.test(entry.error)) entry.knownLimitation = known.what;
    report.steps.push(entry);
    const label = entry.ok ? "ok  " : entry.knownLimitation ? "KNOWN" : "FAIL";
    process.stdout.write(`${label} ${name} (${(entry.ms / 1000).toFixed(1)} s)${entry.ok ? "" : ": " + entry.error}\n`);
    return entry;
  }

  // --- the walk -------------------------------------------------------------------------------
  let config = null;
  const card = {}; // step name -> card number

  await step("open", async () => {
    config = await (await page.request.get(`${opts.url}/_internal/v1/config`)).json();
    const sentBefore = sent.length;
    await page.goto(`${opts.url}/`, { waitUntil: "load" });
    // Opening the page installs the app in the personal chat: installationUpdate + conversationUpdate.
    const { n, text } = await nextCard("opening the Playground (app installed in the personal chat)");
    card.welcome = n;
    return {
      playground: config.internalConfig || null,
      currentUser: config.config.currentUser,
      personalChatId: config.config.personalChat.id,
      text,
      requests: sent.slice(sentBefore).map(s => s.path),
      shot: await shot("01-personal-welcome"),
    };
  });

  await step("help", async () => {
    const { n, text } = await say("/help");
    card.help = n;
    return { text, shot: await shot("02-help") };
  });

  await step("status", async () => {
    const { n, text } = await say("/status");
    card.status = n;
    await reveal(n, 90);
    return { text, shot: await shot("03-status") };
  });

  await step("readiness", async () => {
    const { n, text } = await say("/readiness");
    card.readiness = n;
    await reveal(n, 90);
    return { text, shot: await shot("03-readiness") };
  });

  await step("status-refresh", async () => {
    if (!card.status) throw new Error("no /status card to press Refresh on");
    const result = await execute(card.status, "Refresh");
    await cardIn(card.status).scrollIntoViewIfNeeded();
    return { ...result, shot: await shot("04-status-refreshed") };
  });

  await step("timeline-button", async () => {
    // The status card's "Timeline" button: Action.Submit with data {msteams: {type: imBack, value: "/timeline"}}.
    if (!card.status) throw new Error("no /status card");
    await markSeen();
    const errorsBefore = report.pageErrors.length;
    const sentBefore = sent.length;
    await cardIn(card.status).getByRole("button", { name: "Timeline", exact: true }).click();
    await page.waitForTimeout(300);
    const errors = report.pageErrors.slice(errorsBefore);
    const submitted = sent.slice(sentBefore);
    if (errors.length && !submitted.length) {
      throw new Error(`the Playground sent nothing; its page threw: ${errors.join("; ")}`);
    }
    const { n, text } = await nextCard('pressing "Timeline" (Action.Submit, imBack)');
    card.timelineButton = n;
    return { text, request: submitted[0] || null };
  }, {
    pattern: /Cannot add property msTeams/,
    what: "Agents Playground 0.2.28: an Action.Submit whose data has an msteams key throws in the page and sends nothing",
  });

  await step("timeline", async () => {
    const { n, text } = await say("/timeline");
    card.timeline = n;
    return { text, shot: await shot("05-timeline") };
  });

  for (const command of ["/help", "/status", "/timeline"]) {
    const name = `ja-${command.slice(1)}`;
    await step(name, async () => {
      await markSeen();
      const activity = await customActivity(config.config.personalChat.id, {
        type: "message", text: command, textFormat: "plain", locale: "ja-JP",
        localTimezone: "Asia/Tokyo",
        entities: [{ type: "clientInfo", locale: "ja-JP", country: "JP", platform: "Web", timezone: "Asia/Tokyo" }],
      });
      const { n, text } = await nextCard(`a custom ${command} activity with locale ja-JP`);
      card[name] = n;
      await reveal(n);
      return { text, sentLocale: activity.locale, shot: await shot(`06-${name}`) };
    });
  }

  await step("ja-status-refresh", async () => {
    if (!card["ja-status"]) throw new Error("no Japanese /status card");
    return execute(card["ja-status"], "更新");
  });

  await step("channel-install", async () => {
    const sentBefore = sent.length;
    await page.getByRole("treeitem", { name: "My Team - General" }).click();
    // Selecting the channel installs the app in the team: installationUpdate + conversationUpdate.
    await page.getByRole("button", { name: "Post" }).waitFor();
    const { n, text } = await nextCard("opening My Team › General (app added to the team)");
    card.channelWelcome = n;
    return { text, requests: sent.slice(sentBefore).map(s => s.path), shot: await shot("07-channel-welcome") };
  });

  await step("channel-subscribe", async () => {
    await markSeen();
    const box = page.locator(COMPOSER).first(); // "Start a new post"
    await box.click();
    await box.pressSequentially("@");
    await page.getByRole("menuitem", { name: opts.botName }).click();
    await box.pressSequentially(" /subscribe");
    const sentBefore = sent.length;
    await page.getByRole("button", { name: "Post" }).click();
    const { n, text } = await nextCard("posting @bot /subscribe in the channel");
    card.alerts = n;
    await reveal(n, 70);
    const message = sent.slice(sentBefore).find(s => s.path.endsWith("/messages"));
    return { text, request: message ? message.body : null, shot: await shot("08-channel-subscribed") };
  });

  await step("alerts-save", async () => {
    // Change an input, then Save: an Action.Execute whose data carries the card's inputs.
    if (!card.alerts) throw new Error("no /subscribe card");
    await cardIn(card.alerts).getByRole("textbox", { name: "Time zone" }).fill("Europe/Berlin");
    const result = await execute(card.alerts, "Save");
    await reveal(card.alerts, 70);
    return { ...result, shot: await shot("09-alerts-saved") };
  });

  await step("alerts-unsubscribe", async () => {
    if (!card.alerts) throw new Error("no alerts card");
    const result = await execute(card.alerts, "Unsubscribe");
    return { ...result, shot: await shot("10-alerts-unsubscribed") };
  });

  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  report.requestsSent = sent.map(s => s.path);
  await browser.close();
  fs.writeFileSync(path.join(opts.out, "walk.json"), JSON.stringify(report, null, 2) + "\n");
  const failed = report.steps.filter(s => !s.ok && !s.knownLimitation).length;
  const known = report.steps.filter(s => s.knownLimitation).length;
  process.stdout.write(`walk: ${report.steps.length} steps, ${failed} failed, ${known} known Playground limitation(s), ${report.seconds} s; ${path.join(opts.out, "walk.json")}\n`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => {
  process.stderr.write(`walk.mjs: ${e && e.stack || e}\n`);
  process.exit(1);
});
