// Browser test of the Tomoni GraphQL playground, as a person would use it.
//
// It starts `tomoni serve --demo` on a free loopback port with a fresh data directory, opens the
// playground in Debian's Chromium (driven by playwright-core, no downloaded browser), runs the
// default `Viewer` query once without a token (expects UNAUTHENTICATED) and once with the demo
// coordinator's token pasted into the Headers tab (expects the coordinator's name), and checks that
// the documentation comes from the server's schema.json, never from an introspection query.
//
// The browser can reach nothing but 127.0.0.1: DNS for every other host is mapped to NOTFOUND and
// every request to another host is aborted and recorded, so the test also proves the page needs no
// CDN. A console error, an uncaught page exception, or a failed load of a playground asset fails it.
//
// Environment:
//   TOMONI_BIN      path to a built tomoni binary (required)
//   CHROMIUM        path to Chromium (default /usr/bin/chromium, Debian's `chromium` package)
//   SCREENSHOT_DIR  if set, a screenshot of the page is written there (playground.png, or
//                   playground-failure.png when the test fails)
//
// Run with: node --test tests/browser/playground.test.mjs (or tests/browser/run.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { chromium } from 'playwright-core';

const SERVER_START_TIMEOUT_MS = 60_000;
const PAGE_READY_TIMEOUT_MS = 30_000;
const QUERY_RESULT_TIMEOUT_MS = 20_000;
const EXPECTED_NAME = '堀江 美咲';
const LOOPBACK_HOST = '127.0.0.1';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but loopback resolves: the playground must work on a network with no internet.
  `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${LOOPBACK_HOST}`,
];

// Chromium asks every site for /favicon.ico on its own (the page does not link one), and Tomoni
// serves none, so that one 404 is the browser's, not the playground's. Nothing else is excused.
function isFaviconMiss(url) {
  try {
    const u = new URL(url);
    return u.hostname === LOOPBACK_HOST && u.pathname === '/favicon.ico';
  } catch {
    return false;
  }
}

function isLoopback(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  // data: and blob: URLs never leave the browser.
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
  return u.hostname === LOOPBACK_HOST;
}

async function requireExecutable(file, what) {
  try {
    await access(file, constants.X_OK);
  } catch {
    throw new Error(`${what} not found or not executable at ${file}`);
  }
}

/**
 * The server's environment: this one without any TOMONI_* variable. Tomoni reads its settings from
 * TOMONI_* and refuses to start on one it does not know, such as TOMONI_BIN; and a stray
 * TOMONI_DATABASE_URL or TOMONI_LISTEN must not move the server off its fresh SQLite on loopback.
 */
function serverEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^TOMONI_/i.test(name)));
  env.NO_COLOR = '1';
  return env;
}

/** Starts the server; resolves to { url, token, stop, stderrTail } once both lines are printed. */
async function startServer(bin, dataDir) {
  const child = spawn(
    bin,
    ['serve', '--demo', '--listen', `${LOOPBACK_HOST}:0`, '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  let hasExited = false;
  exited.then(() => {
    hasExited = true;
  });

  const stop = async () => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!hasExited) child.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };

  // Keep reading stdout to the end so the server never blocks on a full pipe.
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  let url;
  let token;
  const seen = new Promise((resolve) => {
    lines.on('line', (line) => {
      const playground = line.match(/^playground: (http:\/\/\S+)$/);
      if (playground) url = playground[1];
      const coordinator = line.match(/^coordinator token: (tmn_\S+)$/);
      if (coordinator) token = coordinator[1];
      if (url && token) resolve();
    });
  });

  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SERVER_START_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([seen.then(() => 'ready'), exited, timedOut]);
    if (outcome === 'timeout') {
      throw new Error(
        `tomoni did not print both "playground:" and "coordinator token:" within ` +
          `${SERVER_START_TIMEOUT_MS / 1000} s (seen: playground=${Boolean(url)}, token=${Boolean(token)})\n` +
          `--- tomoni stderr (tail) ---\n${stderr}`,
      );
    }
    if (outcome !== 'ready') {
      throw new Error(
        `tomoni exited before it was ready (code ${outcome.code}, signal ${outcome.signal})\n` +
          `--- tomoni stderr (tail) ---\n${stderr}`,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { url, token, stop, stderrTail: () => stderr };
}

/** page.waitForFunction, with a timeout that says what was being waited for. */
async function waitUntil(page, what, predicate, arg, timeout) {
  try {
    await page.waitForFunction(predicate, arg, { timeout });
  } catch (error) {
    if (error?.name !== 'TimeoutError') throw error;
    throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`, { cause: error });
  }
}

/** The text of a CodeMirror 5 editor inside `container` (GraphiQL 4 uses CodeMirror 5). */
function editorValue(container) {
  return container.evaluate((el) => {
    const cm = el.querySelector('.CodeMirror');
    return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : null;
  });
}

test('the playground runs the Viewer query with a pasted token, offline', { timeout: 240_000 }, async (t) => {
  const bin = process.env.TOMONI_BIN;
  if (!bin) {
    throw new Error('TOMONI_BIN is not set: point it at a built tomoni binary (e.g. target/debug/tomoni)');
  }
  await requireExecutable(bin, 'TOMONI_BIN');
  const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
  await requireExecutable(chromiumPath, "Chromium (Debian's `chromium` package; or set CHROMIUM)");

  const started = Date.now();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tomoni-browser-test-'));
  let server;
  let browser;
  let page;
  const problems = {
    offLoopbackRequests: [],
    consoleErrors: [],
    pageErrors: [],
    failedLoads: [],
  };
  const excused = [];
  const recordOffLoopback = (url) => {
    if (!problems.offLoopbackRequests.includes(url)) problems.offLoopbackRequests.push(url);
  };
  const graphqlRequests = [];
  const schemaResponses = [];

  try {
    server = await startServer(path.resolve(bin), dataDir);
    t.diagnostic(`tomoni ready at ${server.url} after ${Date.now() - started} ms`);
    assert.equal(new URL(server.url).hostname, LOOPBACK_HOST, 'the playground URL is on loopback');

    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    t.diagnostic(`Chromium ${browser.version()}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });

    // Abort (and record) everything that is not loopback: the page must need no CDN.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      recordOffLoopback(url);
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket(
      (url) => !isLoopback(url.href),
      (ws) => {
        recordOffLoopback(ws.url());
        ws.close();
      },
    );

    page = await context.newPage();
    page.on('request', (request) => {
      const url = request.url();
      if (!isLoopback(url)) recordOffLoopback(url);
      if (new URL(url).pathname === '/graphql' && request.method() === 'POST') {
        graphqlRequests.push(request);
      }
    });
    page.on('websocket', (ws) => {
      if (!isLoopback(ws.url())) recordOffLoopback(ws.url());
    });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location()?.url ?? '';
      const text = `${message.text()} (at ${where || 'unknown'})`;
      if (isFaviconMiss(where) && /\b404\b/.test(message.text())) excused.push(`console: ${text}`);
      else problems.consoleErrors.push(text);
    });
    page.on('pageerror', (error) => problems.pageErrors.push(String(error?.stack || error)));
    page.on('response', (response) => {
      const url = response.url();
      if (isLoopback(url) && new URL(url).pathname === '/playground/schema.json') {
        schemaResponses.push(response.status());
      }
      if (response.status() < 400 || !isLoopback(url)) return;
      const line = `${response.status()} ${url}`;
      if (isFaviconMiss(url)) excused.push(`response: ${line}`);
      else problems.failedLoads.push(line);
    });
    page.on('requestfailed', (request) => {
      const url = request.url();
      if (isLoopback(url) && !isFaviconMiss(url)) {
        problems.failedLoads.push(`${request.failure()?.errorText ?? 'failed'} ${url}`);
      }
    });

    // 1. The page and every asset come from Tomoni itself, and GraphiQL renders.
    const response = await page.goto(server.url, { waitUntil: 'load', timeout: PAGE_READY_TIMEOUT_MS });
    assert.ok(response, 'the playground page answered');
    assert.equal(response.status(), 200, 'the playground page answers 200');
    // Every script and the stylesheet have loaded by now: say so at once if one did not.
    assert.deepEqual(problems.failedLoads, [], 'every asset loaded');
    assert.deepEqual(problems.pageErrors, [], 'no uncaught exceptions while loading');
    assert.deepEqual(problems.consoleErrors, [], 'no console errors while loading (CSP violations show up here)');

    const queryEditor = page.getByRole('region', { name: 'Query Editor' });
    const headersTool = page.getByRole('region', { name: 'Headers' });
    const resultWindow = page.getByRole('region', { name: 'Result Window' });
    const runButton = page.getByRole('button', { name: /^Execute query/ });

    await queryEditor.locator('.CodeMirror').waitFor({ state: 'visible', timeout: PAGE_READY_TIMEOUT_MS });
    await resultWindow.locator('.CodeMirror').waitFor({ state: 'visible', timeout: PAGE_READY_TIMEOUT_MS });
    await runButton.waitFor({ state: 'visible', timeout: PAGE_READY_TIMEOUT_MS });
    // The default query is in place (the editors are created asynchronously after first render).
    await waitUntil(
      page,
      'the default query in the query editor',
      () => {
        const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
        return Boolean(cm?.CodeMirror?.getValue().includes('query Viewer'));
      },
      null,
      PAGE_READY_TIMEOUT_MS,
    );
    assert.match(await editorValue(queryEditor), /viewer\s*\{[^}]*displayName/, 'the default query asks for the viewer');

    // 2. Without a token the query is refused: proves the header below is what signs in.
    assert.ok(await runButton.isEnabled(), 'the run button is enabled');
    await runButton.click();
    await waitUntil(
      page,
      'UNAUTHENTICATED in the result pane (query run without a token)',
      () => {
        const cm = document.querySelector('.result-window .CodeMirror');
        return Boolean(cm?.CodeMirror?.getValue().includes('UNAUTHENTICATED'));
      },
      null,
      QUERY_RESULT_TIMEOUT_MS,
    );
    const refused = JSON.parse(await editorValue(resultWindow));
    assert.equal(refused.data, null, 'no data without a token');
    assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'refused without a token');

    // 3. Paste the token into the Headers tab, as the page's own instructions say.
    await page.locator('.graphiql-editor-tools').getByRole('button', { name: 'Headers', exact: true }).click();
    const headerEditor = headersTool.locator('.graphiql-editor:not(.hidden) .CodeMirror');
    await headerEditor.waitFor({ state: 'visible', timeout: PAGE_READY_TIMEOUT_MS });
    const headersJson = JSON.stringify({ Authorization: `Bearer ${server.token}` });
    await headerEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    // insertText is a paste: CodeMirror's bracket auto-closing does not double the braces.
    await page.keyboard.insertText(headersJson);
    // Wait for the editor to hold exactly what was pasted before pressing run.
    await waitUntil(
      page,
      'the Headers editor to hold exactly the pasted JSON',
      (expected) => {
        const cm = document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
        return cm?.CodeMirror?.getValue().trim() === expected;
      },
      headersJson,
      PAGE_READY_TIMEOUT_MS,
    );
    assert.deepEqual(
      JSON.parse(await editorValue(headersTool.locator('.graphiql-editor:not(.hidden)'))),
      { Authorization: `Bearer ${server.token}` },
      'the Headers tab holds the token',
    );

    // 4. Run again: the result pane shows the demo coordinator.
    assert.ok(await runButton.isEnabled(), 'the run button is enabled');
    await runButton.click();
    await waitUntil(
      page,
      `"${EXPECTED_NAME}" in the result pane (query run with the token)`,
      (name) => {
        const cm = document.querySelector('.result-window .CodeMirror');
        return Boolean(cm?.CodeMirror?.getValue().includes(name));
      },
      EXPECTED_NAME,
      QUERY_RESULT_TIMEOUT_MS,
    );
    const result = JSON.parse(await editorValue(resultWindow));
    assert.equal(result.errors, undefined, `no errors with the token: ${JSON.stringify(result.errors)}`);
    assert.equal(result.data?.viewer?.displayName, EXPECTED_NAME);
    assert.equal(result.data?.viewer?.role, 'COORDINATOR');
    assert.ok(result.data?.viewer?.organisation?.name, 'the viewer has an organisation');
    // And a person sees it: the rendered result pane shows the name.
    assert.ok((await resultWindow.innerText()).includes(EXPECTED_NAME), 'the result pane shows the name');

    // The last query went to Tomoni with the pasted header.
    const last = graphqlRequests.filter((r) => r.postDataJSON()?.operationName === 'Viewer').at(-1);
    assert.ok(last, 'the Viewer query was sent as a POST to /graphql');
    assert.equal(new URL(last.url()).hostname, LOOPBACK_HOST);
    assert.equal(await last.headerValue('authorization'), `Bearer ${server.token}`);

    // 5. The schema came from the server (the documentation explorer lists the query root), and
    // GraphiQL never introspected: over the API only coordinators may, within the depth limit.
    assert.equal(schemaResponses.at(-1), 200, 'the playground loaded /playground/schema.json');
    await page.getByRole('button', { name: /Show Documentation Explorer/i }).click();
    await waitUntil(
      page,
      'the documentation explorer to show the query root',
      () => document.querySelector('.graphiql-doc-explorer')?.innerText.includes('QueryRoot'),
      null,
      PAGE_READY_TIMEOUT_MS,
    );
    const introspections = graphqlRequests.filter((r) => /__schema/.test(r.postData() ?? ''));
    assert.equal(introspections.length, 0, 'GraphiQL sent no introspection query');

    // 6. Nothing went wrong on the way.
    assert.deepEqual(problems.offLoopbackRequests, [], 'the page asked for nothing outside 127.0.0.1');
    assert.deepEqual(problems.pageErrors, [], 'no uncaught exceptions in the page');
    assert.deepEqual(problems.consoleErrors, [], 'no console errors (CSP violations show up here)');
    assert.deepEqual(problems.failedLoads, [], 'every asset loaded');
    for (const line of excused) t.diagnostic(`excused (browser's own favicon request): ${line}`);

    await screenshot(page, 'playground.png', t);
    t.diagnostic(`done in ${Date.now() - started} ms`);
  } catch (error) {
    await reportFailure(page, server, problems, t);
    throw error;
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function screenshot(page, name, t) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir || !page) return;
  await mkdir(dir, { recursive: true });
  const file = path.resolve(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  t.diagnostic(`screenshot: ${file}`);
}

async function reportFailure(page, server, problems, t) {
  const out = ['--- playground test failed; what the browser saw ---'];
  out.push(`problems: ${JSON.stringify(problems, null, 2)}`);
  if (page && !page.isClosed()) {
    const text = await page
      .locator('body')
      .innerText({ timeout: 5_000 })
      .catch((e) => `(could not read the page: ${e.message})`);
    out.push(`--- page text ---\n${text}`);
    const result = await page
      .evaluate(() => document.querySelector('.result-window .CodeMirror')?.CodeMirror?.getValue() ?? '(no result editor)')
      .catch((e) => `(could not read the result pane: ${e.message})`);
    out.push(`--- result pane ---\n${result}`);
    await screenshot(page, 'playground-failure.png', t).catch((e) => out.push(`(no screenshot: ${e.message})`));
  }
  if (server) out.push(`--- tomoni stderr (tail) ---\n${server.stderrTail()}`);
  console.error(out.join('\n'));
}
