'use strict';
// The todo sample's /docs page in headless Chromium (ctest todo.browser): the sample serves
// Swagger UI's files from the swagger-ui-dist package (--docs-assets, the package that
// browser.npm installed into the build folder), the page renders /openapi.json, and every
// operation of the document (each path and method) is listed on it. No request fails or answers
// 4xx/5xx, no script errs, and every request goes to the sample itself (127.0.0.1): nothing
// from a CDN. Saves docs.png.
//   node todo_docs_check.cjs TODO_BINARY SCREENSHOT_DIR
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { nodeModules, launchChromium, startServer, recordingPage } = require('./support.cjs');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/// "GET /todos", ... for every operation of an OpenAPI document, sorted.
function operationsOf(spec) {
    const operations = [];
    for (const [where, item] of Object.entries(spec.paths ?? {})) {
        for (const method of METHODS) {
            if (item[method]) {
                operations.push(`${method.toUpperCase()} ${where}`);
            }
        }
    }
    return operations.sort();
}

/// The operations Swagger UI lists: each `.opblock` names its method and its path (in
/// `data-path`; the text has zero-width spaces after the slashes), sorted.
async function listedOperations(page) {
    const listed = await page.$$eval('.swagger-ui .opblock', (blocks) => blocks.map((block) => {
        const method = block.querySelector('.opblock-summary-method')?.textContent ?? '';
        const where = block.querySelector('.opblock-summary-path');
        const text = where?.getAttribute('data-path') ?? where?.textContent ?? '';
        return `${method.trim().toUpperCase()} ${text.replace(/\u200b/g, '').trim()}`;
    }));
    return listed.sort();
}

async function main() {
    const [todo, shots] = process.argv.slice(2);
    if (!todo || !shots) {
        throw new Error('usage: node todo_docs_check.cjs TODO_BINARY SCREENSHOT_DIR');
    }
    const assets = path.join(nodeModules(), 'swagger-ui-dist');
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
        assert.ok(fs.existsSync(path.join(assets, file)), `no ${file} in ${assets}`);
    }
    fs.mkdirSync(shots, { recursive: true });
    const server = await startServer(todo, ['--threads', '2', '--docs-assets', assets]);
    const browser = await launchChromium();
    try {
        const response = await fetch(server.url + '/openapi.json');
        assert.equal(response.status, 200, 'GET /openapi.json');
        const spec = await response.json();
        const expected = operationsOf(spec);
        assert.ok(expected.length > 0, 'the document lists no operation');

        const page = await recordingPage(browser);
        const foreign = [];
        const fetched = new Set();
        page.on('request', (request) => {
            const url = new URL(request.url());
            if (['data:', 'blob:', 'about:'].includes(url.protocol)) {
                return;
            }
            if (url.hostname !== '127.0.0.1') {
                foreign.push(request.url());
            } else {
                fetched.add(url.pathname);
            }
        });
        const answer = await page.goto(server.url + '/docs', { waitUntil: 'load' });
        assert.equal(answer.status(), 200, 'GET /docs');
        assert.match(answer.headers()['content-type'] ?? '', /^text\/html/);
        try {
            // A section per tag once the document is rendered (its operations inside, or not
            // yet when the section starts collapsed).
            await page.waitForSelector('.swagger-ui .opblock-tag-section', { timeout: 20000 });
        } catch (error) {
            throw new Error(`Swagger UI rendered no operation in 20 s (${error.message}); ` +
                            `failures: ${JSON.stringify(page.failures)}; requests to other ` +
                            `hosts: ${JSON.stringify(foreign)}`);
        }
        // The page keeps Swagger UI's docExpansion "list": tags open, operations listed. Only
        // if they are still missing after a wait are collapsed tags opened (clicking a tag
        // while the page still renders would close it again).
        const listedAll = (timeout) => page.waitForFunction(
            (n) => document.querySelectorAll('.swagger-ui .opblock').length >= n,
            expected.length, { timeout }).then(() => true, () => false);
        if (!await listedAll(20000)) {
            for (const tag of await page.$$('.opblock-tag-section:not(.is-open) .opblock-tag')) {
                await tag.click();
            }
            await listedAll(10000);  // what is missing is reported below
        }
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: path.join(shots, 'docs.png'), fullPage: true });

        const listed = await listedOperations(page);
        const missing = expected.filter((operation) => !listed.includes(operation));
        assert.deepEqual(missing, [],
                         `operations of /openapi.json not listed on /docs; listed: ${listed}`);
        const title = await page.textContent('.swagger-ui .info .title');
        assert.ok(title?.includes(spec.info.title),
                  `the page's title "${title}" does not name "${spec.info.title}"`);
        assert.equal(await page.locator('.swagger-ui .errors-wrapper').count(), 0,
                     `Swagger UI shows errors: ${await page.textContent('.swagger-ui')}`);
        for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
            assert.ok(fetched.has(`/docs/assets/${file}`),
                      `the page did not load /docs/assets/${file}; it loaded ${[...fetched]}`);
        }
        assert.ok(fetched.has('/openapi.json'), 'the page did not load /openapi.json');
        assert.deepEqual(foreign, [], 'requests to hosts other than 127.0.0.1');
        assert.deepEqual(page.failures, [], 'failed requests or script errors on /docs');
        console.log(`/docs lists the ${expected.length} operations of /openapi.json ` +
                    `(${expected.join(', ')}) from local assets; no failed request`);
        console.log(`screenshot: ${path.join(shots, 'docs.png')}`);
    } finally {
        await browser.close();
        await server.stop();
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
