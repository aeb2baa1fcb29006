'use strict';
// The room sample's page, driven in headless Chromium: two `room` processes on the Redis of
// the ctest fixture, a page on each, both in one room. What one page sends shows on both; a
// page in another room sees none of it; no request fails and no script errs. Saves
// room-one.png and room-two.png.
//   node room_check.cjs ROOM_BINARY REDIS_PORT_FILE SCREENSHOT_DIR
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launchChromium, startServer, recordingPage } = require('./support.cjs');

async function join(page, url, room) {
    await page.goto(url + '/');
    await page.fill('#room', room);
    await page.click('#join button');
    await page.waitForFunction(() => !document.getElementById('text').disabled,
                               null, { timeout: 10000 });
}

async function say(page, text) {
    await page.fill('#text', text);
    await page.click('#send');
}

/// Waits until `page` lists `text` as a message.
async function heard(page, text) {
    await page.waitForFunction(
        (t) => [...document.querySelectorAll('#messages li')].some((li) => li.textContent === t),
        text, { timeout: 5000 });
}

async function messages(page) {
    return page.$$eval('#messages li', (items) => items.map((li) => li.textContent));
}

async function main() {
    const [room, portFile, shots] = process.argv.slice(2);
    const redisPort = fs.readFileSync(portFile, 'utf8').trim();
    assert.match(redisPort, /^\d+$/, `no Redis port in ${portFile}`);
    fs.mkdirSync(shots, { recursive: true });
    const broadcast = ['--threads', '2', '--broadcast', `redis://127.0.0.1:${redisPort}`];
    const one = await startServer(room, broadcast);
    const two = await startServer(room, broadcast);
    const browser = await launchChromium();
    try {
        const first = await recordingPage(browser);
        const second = await recordingPage(browser);
        const elsewhere = await recordingPage(browser);
        await join(first, one.url, 'browsers');
        await join(second, two.url, 'browsers');
        await join(elsewhere, two.url, 'other room');
        // The second process subscribes to the room on Redis just after the page joined: wait
        // until a message crosses, then check the exchange itself.
        for (let i = 0; ; ++i) {
            await say(first, `warm-up ${i}`);
            try {
                await heard(second, `warm-up ${i}`);
                break;
            } catch (error) {
                if (i === 20) throw error;
            }
        }
        await say(first, 'hello from the first process');
        await heard(first, 'hello from the first process');
        await heard(second, 'hello from the first process');
        await say(second, 'and back from the second: café 🔥');
        await heard(first, 'and back from the second: café 🔥');
        await heard(second, 'and back from the second: café 🔥');
        await say(elsewhere, 'only here');
        await heard(elsewhere, 'only here');
        assert.deepEqual(await messages(elsewhere), ['only here'],
                         'a page in another room saw the first room\'s messages');
        assert.ok(!(await messages(first)).includes('only here'));
        for (const page of [first, second, elsewhere]) {
            assert.match(await page.textContent('#status'), /^in room /);
        }
        await first.screenshot({ path: path.join(shots, 'room-one.png') });
        await second.screenshot({ path: path.join(shots, 'room-two.png') });
        for (const page of [first, second, elsewhere]) {
            assert.deepEqual(page.failures, [], `failures on ${page.url()}`);
        }
        console.log('room pages: two processes, one room, messages both ways; another room ' +
                    'apart; no failed request');
    } finally {
        await browser.close();
        await one.stop();
        await two.stop();
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
