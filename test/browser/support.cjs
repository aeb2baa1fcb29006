'use strict';
// What flamecpp's browser tests share: a flamecpp program started on a free loopback port,
// Debian's chromium driven by playwright-core (installed into the build folder by the ctest
// fixture browser.npm), and a page that records every request that failed.
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');

/// The node_modules folder that the ctest fixture browser.npm filled in the build folder
/// (FLAMECPP_NODE_MODULES names it).
function nodeModules() {
    const modules = process.env.FLAMECPP_NODE_MODULES;
    if (!modules) {
        throw new Error('FLAMECPP_NODE_MODULES is not set: run this through ctest, whose ' +
                        'fixture browser.npm installs test/browser/package.json into the ' +
                        'build folder');
    }
    return modules;
}

/// A package of test/browser/package.json, from the build folder.
function nodeModule(name) {
    return require(path.join(nodeModules(), name));
}

/// playwright-core from the build folder.
function playwright() {
    return nodeModule('playwright-core');
}

/// Chromium, headless: $CHROMIUM or Debian's /usr/bin/chromium.
async function launchChromium() {
    const { chromium } = playwright();
    return chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
}

/// Starts `program args... --port 0` and resolves, once it prints its listening line, to
/// {url, stop()}. Its stderr goes to ours. Rejects if it exits or stays silent for 30 s.
function startServer(program, args = []) {
    return new Promise((resolve, reject) => {
        const child = spawn(program, [...args, '--port', '0'],
                            { stdio: ['ignore', 'pipe', 'inherit'] });
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${program} printed no listening line in 30 s`));
        }, 30000);
        child.on('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`${program} exited (${code ?? signal}) before listening`));
        });
        const lines = readline.createInterface({ input: child.stdout });
        lines.on('line', (line) => {
            const match = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(line);
            if (!match) {
                return;
            }
            clearTimeout(timer);
            child.removeAllListeners('exit');
            resolve({
                url: match[1],
                stop: () => new Promise((done) => {
                    if (child.exitCode !== null || child.signalCode !== null) {
                        return done();
                    }
                    child.once('exit', () => done());
                    child.kill('SIGTERM');
                }),
            });
        });
    });
}

/// A new page that records, in `page.failures`, every request that failed or answered 4xx/5xx
/// and every error the page's scripts raised or logged.
async function recordingPage(browser) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.failures = [];
    page.on('requestfailed', (request) =>
        page.failures.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('response', (response) => {
        if (response.status() >= 400) {
            page.failures.push(`${response.url()}: ${response.status()}`);
        }
    });
    page.on('pageerror', (error) => page.failures.push(`script error: ${error.message}`));
    page.on('console', (message) => {
        if (message.type() === 'error') {
            const where = message.location()?.url;
            page.failures.push(`console error: ${message.text()}${where ? ` (${where})` : ''}`);
        }
    });
    return page;
}

module.exports = {
    nodeModules, nodeModule, playwright, launchChromium, startServer, recordingPage,
};
