'use strict';
// The todo sample's OpenAPI document through the two validators its contract names (ctest
// todo.openapi): `redocly lint` with Redocly CLI's built-in recommended rules (no error allowed;
// its warnings are printed) and swagger-parser's validate (the OpenAPI 3.1 schema, and every
// $ref resolved). The document, as GET /openapi.json gave it, is saved as OUT_DIR/openapi.json.
//   node openapi_check.cjs TODO_BINARY OUT_DIR
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { nodeModules, nodeModule, startServer } = require('./support.cjs');

/// Runs `program args...` to its end (killed after `timeout` ms) and resolves to
/// {code, stdout, stderr}.
function run(program, args, options, timeout = 120000) {
    return new Promise((resolve, reject) => {
        const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (data) => { stdout += data; });
        child.stderr.on('data', (data) => { stderr += data; });
        const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
        child.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? `killed by ${signal}`, stdout, stderr });
        });
    });
}

/// `redocly lint` on `file`, from its own folder (so no redocly.yaml of elsewhere applies): the
/// built-in recommended rules. Returns the problems that fail the check.
async function redoclyLint(file) {
    const cli = path.join(nodeModules(), '@redocly', 'cli');
    const bin = JSON.parse(fs.readFileSync(path.join(cli, 'package.json'), 'utf8')).bin.redocly;
    // No telemetry and no update check: this machine reaches no network.
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
    const result = await run(process.execPath,
                             [path.join(cli, bin), 'lint', '--format=json', path.basename(file)],
                             { cwd: path.dirname(file), env });
    let report;
    try {
        report = JSON.parse(result.stdout);
    } catch (error) {
        return [`redocly lint printed no JSON report (exit ${result.code}): ` +
                `${result.stdout}\n${result.stderr}`];
    }
    for (const problem of report.problems ?? []) {
        const where = (problem.location ?? []).map((l) => l.pointer).join(', ');
        console.log(`redocly lint: ${problem.severity} ${problem.ruleId} at ${where}: ` +
                    `${problem.message}`);
    }
    const { errors, warnings } = report.totals ?? {};
    console.log(`redocly lint ${report.version}: ${errors} errors, ${warnings} warnings`);
    const failures = [];
    if (errors !== 0) {
        failures.push(`redocly lint found ${errors} errors`);
    }
    if (result.code !== 0 && failures.length === 0) {
        failures.push(`redocly lint exited ${result.code}: ${result.stderr}`);
    }
    return failures;
}

/// swagger-parser's validate on `file`: the document against the OpenAPI schema of its
/// version, then every $ref dereferenced. Returns the problems.
async function swaggerParserValidate(file) {
    const SwaggerParser = nodeModule('@apidevtools/swagger-parser');
    try {
        const api = await SwaggerParser.validate(file);
        console.log(`swagger-parser validate: valid OpenAPI ${api.openapi} ` +
                    `(${api.info.title} ${api.info.version})`);
        return [];
    } catch (error) {
        return [`swagger-parser validate: ${error.message}`];
    }
}

async function main() {
    const [todo, out] = process.argv.slice(2);
    if (!todo || !out) {
        throw new Error('usage: node openapi_check.cjs TODO_BINARY OUT_DIR');
    }
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, 'openapi.json');
    fs.rmSync(file, { force: true });
    const server = await startServer(todo, ['--threads', '2', '--log-level', 'warn']);
    try {
        const response = await fetch(server.url + '/openapi.json');
        const type = response.headers.get('content-type') ?? '';
        const text = await response.text();
        if (response.status !== 200 || !type.startsWith('application/json')) {
            throw new Error(`GET /openapi.json: ${response.status} ${type}: ${text}`);
        }
        fs.writeFileSync(file, text);
    } finally {
        await server.stop();
    }
    const document = JSON.parse(fs.readFileSync(file, 'utf8'));
    const failures = [];
    if (document.openapi !== '3.1.0') {
        failures.push(`"openapi" is ${JSON.stringify(document.openapi)}, not "3.1.0"`);
    }
    failures.push(...await redoclyLint(file));
    failures.push(...await swaggerParserValidate(file));
    if (failures.length > 0) {
        console.error(`${file}:\n  ${failures.join('\n  ')}`);
        process.exit(1);
    }
    console.log(`${file}: redocly lint (no errors) and swagger-parser validate pass`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
