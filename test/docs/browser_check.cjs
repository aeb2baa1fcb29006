'use strict';
// The documentation site in headless Chromium (ctest docs.browser): the site that docs.site
// built, served by flamecpp's own StaticFiles (serve_site). Loads the home page, the tutorial
// and one guide with no failed request or script error, follows every internal link they
// hold (and its #anchor), finds "WebSocketEndpoint" with the site's search, and saves a
// screenshot of each page and of the search results.
//   node browser_check.cjs SERVE_SITE SITE_DIR SCREENSHOT_DIR
const fs = require('node:fs');
const path = require('node:path');
const { launchChromium, startServer, recordingPage } = require('../browser/support.cjs');

const [serveSite, siteDir, shots] = process.argv.slice(2);
const pages = [
    ['home', '/'],
    ['tutorial', '/tutorial/'],
    ['guide-websockets', '/websockets/'],
];
const problems = [];

async function checkLinks(page, links) {
    const bodies = new Map();  // a page's HTML, fetched once
    for (const link of links) {
        const url = new URL(link);
        const hash = decodeURIComponent(url.hash.slice(1));
        url.hash = '';
        if (!bodies.has(url.href)) {
            const response = await page.request.get(url.href);
            bodies.set(url.href, response.ok() ? await response.text() : null);
            if (!response.ok()) {
                problems.push(`link ${link}: ${response.status()}`);
            }
        }
        const body = bodies.get(url.href);
        if (hash && body !== null && !body.includes(`id="${hash}"`)) {
            problems.push(`link ${link}: the page has no element with id "${hash}"`);
        }
    }
    return bodies.size;
}

async function main() {
    fs.mkdirSync(shots, { recursive: true });
    const server = await startServer(serveSite, ['--site', siteDir, '--threads', '1', '--log-level', 'warn']);
    const browser = await launchChromium();
    try {
        const links = new Set();
        for (const [name, where] of pages) {
            const page = await recordingPage(browser);
            const response = await page.goto(server.url + where, { waitUntil: 'networkidle' });
            if (response.status() !== 200) {
                problems.push(`${where}: ${response.status()}`);
            }
            const heading = await page.textContent('article h1');
            if (!heading) {
                problems.push(`${where}: no heading`);
            }
            await page.screenshot({ path: path.join(shots, `${name}.png`) });
            const hrefs = await page.$$eval('a[href]', (anchors) => anchors.map((a) => a.href));
            for (const href of hrefs) {
                if (href.startsWith(server.url)) {
                    links.add(href);
                }
            }
            problems.push(...page.failures.map((failure) => `${where}: ${failure}`));
            console.log(`${where}: "${heading?.trim()}", ${hrefs.length} links`);
            await page.close();
        }

        const page = await recordingPage(browser);
        const fetched = await checkLinks(page, [...links]);
        console.log(`internal links: ${links.size} (${fetched} pages) resolve`);

        await page.goto(server.url + '/', { waitUntil: 'networkidle' });
        // The header's search field (at this width it is shown without its toggle).
        await page.click('.md-search__input');
        await page.keyboard.type('WebSocketEndpoint', { delay: 20 });
        await page.waitForSelector('.md-search-result__item', { timeout: 15000 });
        const results = await page.$$eval('.md-search-result__item a',
                                          (anchors) => anchors.map((a) => a.href));
        await page.screenshot({ path: path.join(shots, 'search.png') });
        if (!results.some((href) => href.includes('/websockets/'))) {
            problems.push(`search "WebSocketEndpoint" does not find the WebSockets guide: ${results}`);
        }
        console.log(`search "WebSocketEndpoint": ${results.length} results`);
        problems.push(...page.failures.map((failure) => `search: ${failure}`));
    } finally {
        await browser.close();
        await server.stop();
    }
    console.log(`screenshots: ${shots}`);
    if (problems.length) {
        console.error(problems.map((p) => `FAIL ${p}`).join('\n'));
        process.exit(1);
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
