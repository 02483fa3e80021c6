// browser.test.mjs — the web pages in a real browser (headless Chromium driven by
// playwright-core) against a real `harmonic serve` with TLS on 127.0.0.1, port 0.
//
//   node browser.test.mjs HARMONIC_EXE WEB_DIR WORK_DIR
//
// The test makes its own registry (harmonic db init, user add, import of small CSVs), a
// self-signed certificate (certtool) and the server, and stops it at the end.  Scenario:
// FR01's manager signs in, uploads a bad CSV (its row errors shown on the page) and a good
// one (the completeness count goes up), answers a data query the analyst opened through
// the API; NO01's manager sees nothing of FR01 (page and direct fetches: 403); the analyst
// sees the overview charts.  A screenshot of each page goes into WORK_DIR/screenshots.
// Exit 77 (skipped) without Chromium or web/node_modules.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [exe, webDir, work] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.HM_CHROMIUM || '/usr/bin/chromium';
const SKIP = 77;

if (!exe || !webDir || !work) {
  console.error('usage: node browser.test.mjs HARMONIC_EXE WEB_DIR WORK_DIR');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.log(`skipped: no Chromium at ${CHROMIUM}`);
  process.exit(SKIP);
}
let chromium;
try {
  const req = createRequire(path.join(here, '../../web/package.json'));
  ({ chromium } = req('playwright-core'));
} catch {
  console.log('skipped: web/node_modules has no playwright-core (npm ci in web/)');
  process.exit(SKIP);
}
if (!existsSync(path.join(webDir, 'uPlot.esm.js'))) {
  console.log(`skipped: ${webDir} has no uPlot (npm ci in web/, then build)`);
  process.exit(SKIP);
}

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

// ---- the registry, the accounts, the certificate ---------------------------------

rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'screenshots'), { recursive: true });
const db = path.join(work, 'reg.db');
const PASSWORD = 'correct horse battery staple';

function run(args, input) {
  const r = spawnSync(exe, args, { input, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`harmonic ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}
function file(name, text) {
  const p = path.join(work, name);
  writeFileSync(p, text);
  return p;
}

run(['db', 'init', '--db', db]);
for (const [name, role, centre] of [['fr-dm', 'centre_manager', 'FR01'],
                                    ['no-dm', 'centre_manager', 'NO01'],
                                    ['ana', 'analyst', '']])
  run(['user', 'add', '--db', db, '--name', name, '--role', role,
       ...(centre ? ['--centre', centre] : [])], `${PASSWORD}\n`);
const anaToken = run(['user', 'token', '--db', db, '--name', 'ana', '--days', '1']).trim()
  .split(/\s+/).find((w) => w.startsWith('hm_'));
check(/^hm_[0-9a-f]{64}$/.test(anaToken || ''), 'analyst token issued');

const P = (n) => '0'.repeat(62) + n;
const PH = 'centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,' +
           'transplant_date,transplant_day,immunosuppression,consent\n';
run(['import', '--db', db, '--centre', 'FR01', 'centre',
     file('c-fr.csv', 'centre_code,country,name,cohort\nFR01,FR,Necker,both\n')]);
run(['import', '--db', db, '--centre', 'NO01', 'centre',
     file('c-no.csv', 'centre_code,country,name,cohort\nNO01,NO,Oslo,cardiac\n')]);
run(['import', '--db', db, '--centre', 'FR01', 'patient',
     file('p-fr0.csv', `${PH}FR01,${P('01')},1,cardiac,F,2005,2005-03-14,none,,,0,given\n`)]);
run(['import', '--db', db, '--centre', 'NO01', 'patient',
     file('p-no.csv', `${PH}NO01,${P('09')},1,cardiac,M,2006,,none,,,0,given\n`)]);
// A procedure, its follow-up and organ doses, for the overview charts.
run(['import', '--db', db, '--centre', 'FR01', 'procedure',
     file('r-fr.csv', 'centre_code,procedure_id,pseudonym,proc_day,exam_type,category,' +
                      `dose_tier\nFR01,PR1,${P('01')},100,diag_cath,diagnostic,3\n`)]);
run(['import', '--db', db, '--centre', 'FR01', 'followup',
     file('f-fr.csv', 'centre_code,pseudonym,vital_status,end_day,end_reason\n' +
                      `FR01,${P('01')},alive,3752,study_end\n`)]);
run(['import', '--db', db, '--centre', 'FR01', 'organ_dose',
     file('o-fr.csv', 'centre_code,source_type,source_id,organ,method,realization,dose_mgy\n' +
                      'FR01,procedure,PR1,heart,synthetic,0,3.5\n' +
                      'FR01,procedure,PR1,lung,synthetic,0,1.2\n' +
                      'FR01,procedure,PR1,red_marrow,synthetic,0,0.3\n')]);

const tmpl = file('cert.tmpl', 'cn = 127.0.0.1\nip_address = 127.0.0.1\nexpiration_days = 2\n' +
                               'tls_www_server\nsigning_key\nencryption_key\nca\n');
const key = path.join(work, 'key.pem'), cert = path.join(work, 'cert.pem');
for (const args of [['--generate-privkey', '--key-type=ecdsa', '--outfile', key],
                    ['--generate-self-signed', '--load-privkey', key, '--template', tmpl,
                     '--outfile', cert]]) {
  const r = spawnSync('certtool', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`certtool: ${r.stderr}`);
}
const conf = file('server.conf', `listen = 127.0.0.1\nport = 0\ntls = on\ntls_cert = ${cert}\n` +
  `tls_key = ${key}\ndb = ${db}\nupload_dir = ${work}/uploads\nlog_file = ${work}/server.log\n` +
  `threads = 2\nweb_dir = ${webDir}\n`);

// ---- the server ---------------------------------------------------------------------

const server = spawn(exe, ['serve', '--config', conf], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on https:\/\/127\.0\.0\.1:(\d+)/);
    if (m) resolve(Number(m[1]));
  });
  server.on('exit', (code) => reject(new Error(`harmonic serve exited ${code}`)));
  setTimeout(() => reject(new Error('harmonic serve did not start in 30 s')), 30000);
});
const base = `https://127.0.0.1:${port}`;
console.log(`server at ${base}`);
const ca = readFileSync(cert);

// The analyst's API, verifying the test's certificate.
function api(method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = https.request(`${base}${p}`, {
      method, ca, headers: { Authorization: `Bearer ${anaToken}`,
                             ...(data ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, data: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// ---- the browser ----------------------------------------------------------------------

const shots = path.join(work, 'screenshots');
const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
const pageErrors = [];

async function signIn(user) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
                                         viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  // A blocked inline script or a CSP violation shows as a console error; refused
  // requests (401, 403, 422: expected here) are logged too and left out.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server ' +
                                                     'responded with a status of 4'))
      pageErrors.push(`${user}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${user}: ${e.message}`));
  await page.goto(`${base}/`);
  await page.fill('#user', user);
  await page.fill('#password', PASSWORD);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#who:not(:empty)');
  return { ctx, page };
}
async function shot(page, name) {
  const p = path.join(shots, `${name}.png`);
  await page.screenshot({ path: p, fullPage: true });
  console.log(`screenshot ${p}`);
}
const rowsOf = async (page, table) =>
  Number(await page.textContent(`tr[data-table="${table}"] td.rows`));

try {
  // Wrong password: refused on the page.
  {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await shot(page, '1-signin');
    await page.fill('#user', 'fr-dm');
    await page.fill('#password', 'not the password');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#signin-status .note.error');
    check((await page.textContent('#signin-status')).includes('Wrong user name or password'),
          'a wrong password is refused');
    await ctx.close();
  }

  // FR01's manager.
  const fr = await signIn('fr-dm');
  await fr.page.waitForSelector('tr[data-table="patient"]');
  const before = await rowsOf(fr.page, 'patient');
  check(before === 1, `FR01 dashboard: 1 patient before the upload (got ${before})`);

  await fr.page.click('#nav a[data-page=upload]');
  await fr.page.waitForSelector('#upload');
  const bad = file('bad.csv', `${PH}FR01,${P('02')},1,cardiac,X,2007,2007-11-02,none,,,0,given\n` +
                              `FR01,${P('03')},1,cardiac,F,1800,2010-01-05,none,,,0,maybe\n`);
  await fr.page.selectOption('#table', 'patient');
  await fr.page.setInputFiles('#file', bad);
  await fr.page.fill('#reason', 'browser test, bad file');
  await fr.page.click('#upload button[type=submit]');
  await fr.page.waitForSelector('#report');
  const issues = await fr.page.$$eval('tr.issue', (trs) =>
    trs.map((t) => ({ line: t.dataset.line, field: t.dataset.field })));
  check(issues.some((i) => i.line === '2' && i.field === 'sex'), 'bad CSV: line 2, field sex shown');
  check(issues.some((i) => i.line === '3' && i.field === 'birth_year'),
        'bad CSV: line 3, field birth_year shown');
  check(issues.some((i) => i.line === '3' && i.field === 'consent'),
        'bad CSV: line 3, field consent shown');
  check((await fr.page.textContent('#report-summary')).includes('nothing was stored'),
        'bad CSV: nothing stored');
  await shot(fr.page, '2-upload-refused');

  const good = file('good.csv', `${PH}FR01,${P('02')},1,cardiac,M,2007,2007-11-02,none,,,0,given\n` +
                                `FR01,${P('03')},1,cardiac,F,2010,2010-01-05,none,,,0,given\n`);
  await fr.page.setInputFiles('#file', good);
  await fr.page.fill('#reason', 'browser test, good file');
  await fr.page.click('#upload button[type=submit]');
  await fr.page.waitForSelector('#report-summary.ok');
  check((await fr.page.textContent('#report-summary')).includes('Stored: 2 of 2 rows'),
        'good CSV: 2 rows stored');
  await shot(fr.page, '3-upload-stored');

  await fr.page.click('#nav a[data-page=dashboard]');
  await fr.page.waitForSelector('tr[data-table="patient"]');
  const after = await rowsOf(fr.page, 'patient');
  check(after === 3, `FR01 dashboard: 3 patients after the upload (got ${after})`);

  // A query opened by the analyst through the API, answered on the page.
  const opened = await api('POST', '/api/v1/queries', {
    centre: 'FR01', table: 'patient', key: { pseudonym: P('03') }, field: 'birth_year',
    text: 'Birth year 2010 but the first procedure says 2009: which is right?' });
  check(opened.status === 201, `analyst opens a query (${opened.status})`);
  await fr.page.reload();
  await fr.page.waitForSelector('#open-queries');
  check((await fr.page.textContent('#open-queries')).startsWith('1 open'),
        'dashboard: 1 open data query');
  await shot(fr.page, '4-dashboard');
  await fr.page.click('#open-queries a');
  await fr.page.waitForSelector(`article.query[data-id="${opened.data.id}"]`);
  await shot(fr.page, '5-queries');
  const q = `article.query[data-id="${opened.data.id}"]`;
  await fr.page.fill(`${q} textarea[name=answer]`, '2010 is right (checked in the chart).');
  await fr.page.click(`${q} button[type=submit]`);
  await fr.page.waitForSelector('.note.ok');
  check((await fr.page.textContent('.note.ok')).includes(`Query ${opened.data.id} answered`),
        'the query is answered on the page');
  const answered = await api('GET', '/api/v1/centres/FR01/queries?status=answered');
  check(answered.data.queries.length === 1 &&
        answered.data.queries[0].answer === '2010 is right (checked in the chart).' &&
        answered.data.queries[0].answered_by === 'fr-dm', 'the answer is stored, by fr-dm');
  // Signing out ends the session: the same cookie no longer reads anything.
  await fr.page.click('#signout');
  await fr.page.waitForSelector('#signin');
  const afterOut = await fr.page.evaluate(async () =>
    (await fetch('/api/v1/centres/FR01/completeness')).status);
  check(afterOut === 401, `signed out: 401 (got ${afterOut})`);
  await fr.ctx.close();

  // NO01's manager: nothing of FR01.
  const no = await signIn('no-dm');
  await no.page.waitForSelector('section.centre');
  const shown = await no.page.$$eval('section.centre', (s) => s.map((e) => e.dataset.centre));
  check(shown.length === 1 && shown[0] === 'NO01', `NO01 sees only NO01 (${shown})`);
  await no.page.goto(`${base}/#/dashboard/FR01`);
  await no.page.waitForSelector('.note.error');
  check((await no.page.textContent('.note.error')).startsWith('403'), 'FR01 page: 403 shown');
  await shot(no.page, '6-other-centre-refused');
  const direct = await no.page.evaluate(async () => {
    const out = {};
    for (const p of ['/api/v1/centres/FR01/completeness', '/api/v1/centres/FR01/tables/patient',
                     '/api/v1/centres/FR01/queries', '/api/v1/centres/all/tables/patient',
                     '/api/v1/pooled/overview'])
      out[p] = (await fetch(p)).status;
    return out;
  });
  check(Object.values(direct).every((s) => s === 403), `direct fetches: ${JSON.stringify(direct)}`);
  const text = await no.page.textContent('body');
  check(!text.includes(P('01')) && !text.includes(P('03')), 'no FR01 pseudonym on the page');
  await no.ctx.close();

  // The analyst: the overview and its charts.
  const ana = await signIn('ana');
  await ana.page.waitForSelector('#dose-chart canvas');
  await ana.page.waitForSelector('#followup-chart canvas');
  const fr01 = Number(await ana.page.textContent('tr[data-centre="FR01"] td.patients'));
  const no01 = Number(await ana.page.textContent('tr[data-centre="NO01"] td.patients'));
  check(fr01 === 3 && no01 === 1, `overview: FR01 3, NO01 1 patients (${fr01}, ${no01})`);
  const py = Number(await ana.page.textContent('tr[data-centre="FR01"] td.py'));
  check(Math.abs(py - (3752 - 100) / 365.25) < 0.05, `overview: FR01 person-years ${py}`);
  const legend = await ana.page.$$eval('#dose-chart .u-legend .u-series th',
    (ths) => ths.map((t) => t.textContent.trim()));
  check(legend.includes('heart') && legend.includes('red_marrow'), `dose chart legend ${legend}`);
  await shot(ana.page, '7-overview');
  // The Content-Security-Policy is enforced: an inline script does not run.
  check(pageErrors.length === 0, `no console or CSP errors${pageErrors.length ? ': ' + pageErrors.join(' | ') : ''}`);
  const ran = await ana.page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.hmInline = 1;';
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 100));
    return window.hmInline === 1;
  });
  check(!ran && pageErrors.some((e) => e.includes('Content Security Policy')),
        'an injected inline script is refused by the CSP');
  await ana.ctx.close();
  pageErrors.length = 0;

  check(pageErrors.length === 0, `no console or CSP errors${pageErrors.length ? ': ' + pageErrors.join(' | ') : ''}`);
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures++;
} finally {
  await browser.close();
  server.kill('SIGTERM');
  const code = await new Promise((resolve) => server.on('exit', (c) => resolve(c)));
  check(code === 0, `harmonic serve stopped (exit ${code})`);
  console.log(`screenshots in ${shots}`);
}
console.log(failures ? `${failures} failed` : 'all passed');
process.exit(failures ? 1 : 0);
