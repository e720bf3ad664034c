// Real-browser tests of the citizen web app: Chromium (Debian's) driven by
// playwright-core against `lapor serve --demo`, with axe-core on every page
// visited and screenshots for docs/screenshots.
//
//   node --test --test-concurrency=1 lapor.test.mjs      (or ./run.sh)
//
// The harness (server, browser, axe, TOTP) is in support.mjs.
//
// The tests share one server and run in order: later ones use the reports
// filed by earlier ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, setUp, tearDown, newContext, noProblems, axe, api, staff, token, shoot,
  PASSWORD, TAKE_SHOTS,
} from './support.mjs';
import { exifJpeg } from './fixtures.mjs';

// Kota Bandung, and the 8×8 JPEG's GPS position (6°54'52.92"S 107°36'35.28"E).
const BANDUNG = { lat: -6.9147, lon: 107.6098 };

let base;

// Shared between the tests, in order.
const state = {};

// ------------------------------------------------------------------ helpers

/** Web-Mercator world pixel of a point at zoom z, as the map picker computes it. */
function worldPx(lon, lat, z) {
  const s = 256 * 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [((lon + 180) / 360) * s, ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * s];
}

/** Submits the report form with the "kirim" button and waits for the answer. */
async function submitForm(page, how = 'click') {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/lapor');
  await page.locator('button[name=action][value=kirim]')[how]();
  const res = await answered;
  await page.waitForLoadState('load');
  return res;
}

// ------------------------------------------------------------------ setup

before(async () => {
  await setUp();
  base = env.base;
  state.nasional = await token('nasional@lapor.demo');
  state.bandung = await token('admin.bandung@lapor.demo');
});

after(tearDown);

// ------------------------------------------------------------------ tests

test('home page renders and is accessible', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  const res = await page.goto('/');
  assert.equal(res.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'id');
  await assert.doesNotReject(page.getByRole('link', { name: 'Buat laporan' }).first().waitFor());
  await axe(page, 'home');
  noProblems(ctx);
  await ctx.close();
});

test('anonymous report with a photo and a map point: receipt, then the track page', async () => {
  // The test holds back one answer with page.route, which cannot see what a
  // service worker fetches; the worker has its own tests (pwa.test.mjs).
  const ctx = await newContext({ baseURL: base, serviceWorkers: 'block' });
  const page = await ctx.newPage();
  await page.goto('/lapor');
  await axe(page, 'form');

  const title = 'Jalan rusak di depan Pasar Kosambi belum diperbaiki';
  await page.check('#k-pengaduan');
  await page.fill('#judul', title);
  await page.fill('#isi', 'Jalan rusak sepanjang kira-kira 200 meter, banyak lubang dalam. Mohon segera diperbaiki sebelum musim hujan.');
  // The live personal-data note appears above the map; wait for it so the
  // map does not move between measuring it and clicking on it.
  await page.waitForSelector('#pii .pii');

  // The map picker: shown by the script, tiles from the local stand-in.
  const map = page.locator('#map');
  await map.waitFor({ state: 'visible' });
  await map.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('#map img')];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth === 256);
  });
  assert.ok(env.tiles.hits > 0, 'tiles were fetched from the tile server');

  // A map click asks for the province's suggested institution, then the
  // regency's; hold the first answer back so it arrives last, as it may on
  // a slow network. The late, less specific answer must not win.
  let lateAnswer;
  const lateDelivered = new Promise((r) => { lateAnswer = r; });
  await page.route(/\/fragmen\/instansi\?wilayah=32$/, async (route) => {
    await new Promise((r) => setTimeout(r, 700));
    await route.continue().catch(() => {});
    lateAnswer();
  });

  // It opens at zoom 4 over (2.5°S, 118°E). Drag Bandung to the middle,
  // zoom in six steps (the middle stays put), then click on Bandung.
  const box = await map.boundingBox();
  const mid = [box.x + box.width / 2, box.y + box.height / 2];
  const start = worldPx(118, -2.5, 4);
  const target4 = worldPx(BANDUNG.lon, BANDUNG.lat, 4);
  const drag = [Math.round(start[0] - target4[0]), Math.round(start[1] - target4[1])];
  await page.mouse.move(mid[0], mid[1]);
  await page.mouse.down();
  await page.mouse.move(mid[0] + drag[0], mid[1] + drag[1], { steps: 8 });
  await page.mouse.up();
  assert.equal(await page.inputValue('#lat'), '', 'a drag does not set a point');
  const zoomIn = map.locator('.zoom button').first();
  for (let i = 0; i < 6; i++) await zoomIn.click();
  const centre10 = [(start[0] - drag[0]) * 64, (start[1] - drag[1]) * 64];
  const target10 = worldPx(BANDUNG.lon, BANDUNG.lat, 10);
  const offset = [target10[0] - centre10[0], target10[1] - centre10[1]];
  assert.ok(Math.abs(offset[0]) < 100 && Math.abs(offset[1]) < 100, `click offset ${offset}`);
  const again = await map.boundingBox();
  assert.deepEqual([again.x, again.y], [box.x, box.y], 'the map did not move while the test worked on it');
  await page.mouse.click(mid[0] + offset[0], mid[1] + offset[1]);

  const lat = Number(await page.inputValue('#lat'));
  const lon = Number(await page.inputValue('#lon'));
  assert.ok(Math.abs(lat - BANDUNG.lat) < 0.005 && Math.abs(lon - BANDUNG.lon) < 0.005, `map click set ${lat}, ${lon}`);
  assert.equal(await map.locator('.pin').isVisible(), true, 'the pin is drawn');
  // /fragmen/lokasi names the regency; the selects follow.
  await page.waitForFunction(() => document.getElementById('kabkota').value === '32.73');
  assert.equal(await page.inputValue('#provinsi'), '32');
  assert.match(await page.textContent('#map-place'), /Kota Bandung/);
  await page.waitForFunction(() => document.getElementById('kecamatan').options.length > 1);
  await page.waitForFunction(() => document.getElementById('instansi').value === 'pemkot-32.73');
  await lateDelivered;
  await page.waitForTimeout(100); // let the late answer's handler run
  assert.equal(await page.inputValue('#instansi'), 'pemkot-32.73', 'the regency government stays suggested');
  await page.unroute(/\/fragmen\/instansi/);

  await page.selectOption('#kategori', 'jalan');
  const photo = exifJpeg();
  // The fixture itself must be a JPEG the browser decodes, else the test proves little.
  assert.equal(await page.evaluate(decodeWidth, `data:image/jpeg;base64,${photo.jpeg.toString('base64')}`), 8);
  assert.ok(photo.jpeg.includes('Exif') && photo.jpeg.includes(photo.gpsIfd));
  await page.setInputFiles('#lampiran', { name: 'foto-jalan.jpg', mimeType: 'image/jpeg', buffer: photo.jpeg });
  await page.check('#anonim');

  const res = await submitForm(page);
  assert.equal(res.status(), 200);
  const id = (await page.textContent('#tracking-id')).trim();
  const pin = (await page.textContent('#pin')).trim();
  assert.match(id, /^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.match(pin, /^\d{8}$/);
  await axe(page, 'receipt');

  await page.getByRole('button', { name: 'Lacak laporan ini' }).click();
  await page.waitForURL(`**/lacak/${id}`);
  assert.equal((await page.textContent('h1')).trim(), title);
  // The deadline in words, e.g. "… Jumat, 11 Desember 2026 pukul 23.59 WIB".
  assert.match((await page.textContent('#deadline')).trim(), /\b\d{1,2} \p{L}+ 20\d\d pukul \d\d\.\d\d WI(B|TA|T)$/u);
  await axe(page, 'track');

  // The attachment as served: still a decodable JPEG, but with no Exif or GPS left.
  const link = page.locator('a[href^="/lampiran/"]');
  assert.equal(await link.count(), 1);
  assert.match(await link.textContent(), /\.jpg$/);
  const got = await page.request.get(await link.getAttribute('href'));
  assert.equal(got.status(), 200);
  assert.equal(got.headers()['content-type'], 'image/jpeg');
  const served = await got.body();
  assert.deepEqual([...served.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  assert.ok(!served.includes('Exif'), 'no Exif header left');
  assert.ok(!served.includes(photo.gpsPointer), 'no GPS IFD pointer left');
  assert.ok(!served.includes(photo.gpsIfd), 'no GPS IFD left');
  assert.ok(!served.includes(photo.gpsValues), 'no GPS coordinates left');
  assert.ok(served.length < photo.jpeg.length);
  assert.equal(await page.evaluate(decodeWidth, `data:image/jpeg;base64,${served.toString('base64')}`), 8);

  // Staff see where it was filed: the map point and the regency.
  const staffView = await staff('GET', `/reports/${id}`, state.nasional);
  assert.ok(Math.abs(staffView.latitude - BANDUNG.lat) < 0.005, JSON.stringify(staffView));
  assert.match(staffView.region_code, /^32\.73/);

  noProblems(ctx);
  state.a = { id, pin, title };
  await ctx.close();
});

/** Width of an image once decoded by the browser (0 if it cannot be). */
async function decodeWidth(src) {
  const img = new Image();
  img.src = src;
  try { await img.decode(); } catch { return 0; }
  return img.naturalWidth;
}

test('staff follow-up, reporter reply, second follow-up, rating', async () => {
  const { id, pin } = state.a;
  const T = await staff('POST', `/reports/${id}/disposition`, state.nasional, { institution: 'pemkot-32.73' });
  assert.equal(T.status, 'dispositioned');
  await staff('POST', `/reports/${id}/accept`, state.bandung, {});
  await staff('POST', `/reports/${id}/follow-up`, state.bandung, { body: 'Tim Dinas PU sudah meninjau lokasi; penambalan dijadwalkan pekan ini.' });

  // A new browser: the reporter comes back with the Tracking ID and PIN.
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/lacak');
  await axe(page, 'track-login');
  await page.fill('#id', id);
  await page.fill('#pin', '00000000');
  await page.click('form.narrow button[type=submit]');
  assert.match(await page.textContent('.alert'), /tidak cocok/);
  await page.fill('#pin', pin);
  await page.click('form.narrow button[type=submit]');
  await page.waitForURL(`**/lacak/${id}`);
  assert.match(await page.textContent('.timeline'), /penambalan dijadwalkan pekan ini/);
  // Answered: the reporter may reply or rate straight away.
  assert.equal(await page.locator('#reply').count(), 1, 'the reply form is offered');
  assert.equal(await page.locator('#rate-h').count(), 1, 'rating is offered after a follow-up');

  await page.fill('#reply', 'Terima kasih. Lubang di depan pintu pasar juga mohon ditambal.');
  await page.getByRole('button', { name: 'Kirim tanggapan' }).click();
  await page.waitForURL(`**/lacak/${id}?ok=1`);
  assert.match(await page.textContent('.alert.ok'), /Tersimpan/);
  assert.match(await page.textContent('.timeline'), /depan pintu pasar/);
  assert.equal(await page.locator('#reply').count(), 0, 'no reply form while the institution is to answer');
  assert.equal(await page.locator('#rate-h').count(), 0, 'no rating while the institution is to answer');

  await staff('POST', `/reports/${id}/follow-up`, state.bandung, { body: 'Semua lubang, termasuk di depan pintu pasar, sudah ditambal.' });
  await page.goto(`/lacak/${id}`);
  assert.match(await page.textContent('.timeline'), /sudah ditambal/);
  await page.locator('label[for="nilai-4"]').click();
  await page.fill('#komentar', 'Cepat ditangani, terima kasih.');
  await axe(page, 'track-rating');
  await page.getByRole('button', { name: 'Kirim penilaian' }).click();
  await page.waitForURL(`**/lacak/${id}?ok=1`);
  assert.match(await page.textContent('.alert.ok'), /Tersimpan/);
  const facts = await page.textContent('.facts');
  assert.match(facts, /Penilaian Anda\s*4\/5/);
  assert.match(facts, /Selesai/);
  assert.match(await page.textContent('.timeline'), /Cepat ditangani/);
  assert.equal(await page.locator('#rate-h').count(), 0, 'rated once only');

  noProblems(ctx);
  state.reporterStorage = await ctx.storageState();
  await ctx.close();
});

test('double-clicking submit files one report (a confidential one)', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/lapor');
  const title = `Jalan rusak dekat SD Negeri ${Date.now() % 100000} perlu diperbaiki`;
  await page.fill('#judul', title);
  await page.fill('#isi', 'Jalan rusak di depan sekolah, lubang dalam di tengah jalan. Mohon perbaikan jalan secepatnya. Hubungi saya di 0812-3456-7890.');
  // While typing: similar public reports (the first one) and the personal-data preview.
  await page.locator(`#similar a[href="/laporan/${state.a.id}"]`).waitFor();
  await page.locator('#pii .pii li').first().waitFor();
  assert.match(await page.textContent('#pii'), /telepon/i);
  await axe(page, 'form-hints');
  await page.selectOption('#provinsi', '32');
  await page.waitForFunction(() => document.querySelector('#kabkota option[value="32.73"]'));
  await page.selectOption('#kabkota', '32.73');
  await page.selectOption('#kategori', 'jalan');
  await page.check('#rahasia');
  await page.fill('#nama', 'Warga Cicendo');
  const res = await submitForm(page, 'dblclick');
  assert.equal(res.status(), 200);
  const id = (await page.textContent('#tracking-id')).trim();
  // Give a stray second submission time to land before counting.
  await page.waitForTimeout(500);

  const list = await staff('GET', '/reports?limit=100', state.nasional);
  const mine = list.items.filter((r) => r.title === title);
  assert.equal(mine.length, 1, 'one report for one double click');
  assert.equal(mine[0].tracking_id, id);
  assert.equal(mine[0].confidential, true);

  await staff('POST', `/reports/${id}/disposition`, state.nasional, { institution: 'pemkot-32.73' });
  state.b = { id, title };
  noProblems(ctx);
  await ctx.close();
});

test('public search finds the public report, never the confidential one', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/laporan');
  await page.fill('#q', 'perbaikan jalan');
  await page.press('#q', 'Enter');
  await page.waitForURL(/\/laporan\?q=perbaikan\+jalan/);
  const html = await page.content();
  assert.ok(html.includes(`/laporan/${state.a.id}`), 'the dispositioned report is found');
  assert.ok(!html.includes(state.b.id), 'the confidential report is not listed');
  assert.ok(!html.includes(state.b.title), 'nor its title');
  await axe(page, 'public-list');

  await page.goto('/laporan');
  assert.ok(!(await page.content()).includes(state.b.id), 'not listed without a query either');
  const hidden = await page.goto(`/laporan/${state.b.id}`);
  assert.equal(hidden.status(), 404);
  assert.equal((await api('GET', `/reports/${state.b.id}`)).status, 404);

  // The public page of the found report, and "Dukung".
  await page.goto('/laporan?q=perbaikan%20jalan');
  await page.click(`a[href="/laporan/${state.a.id}"]`);
  await page.waitForURL(`**/laporan/${state.a.id}`);
  assert.equal((await page.textContent('h1')).trim(), state.a.title);
  assert.match(await page.textContent('.facts'), /Kota Bandung/);
  await axe(page, 'public-detail');
  const count = async () => Number((await page.textContent('.support strong')).trim());
  const before = await count();
  await page.getByRole('button', { name: 'Dukung' }).click();
  await page.waitForLoadState('load');
  assert.equal(await count(), before + 1);
  assert.match(await page.textContent('.support'), /Anda mendukung laporan ini/);
  assert.equal(await page.getByRole('button', { name: 'Dukung' }).count(), 0);

  noProblems(ctx);
  await ctx.close();
});

test('a disguised upload re-renders the form with a clear message', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/lapor');
  const title = 'Lampu jalan padam di Jalan Braga';
  await page.fill('#judul', title);
  await page.fill('#isi', 'Lampu penerangan jalan padam sejak seminggu, jalan gelap pada malam hari.');
  await page.setInputFiles('#lampiran', {
    name: 'photo.jpg',
    mimeType: 'image/jpeg',
    buffer: Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'),
  });
  const res = await submitForm(page);
  assert.equal(res.status(), 415);
  const errors = await page.textContent('#errors');
  assert.match(errors, /Jenis berkas tidak didukung/);
  assert.match(errors, /photo/);
  assert.equal(await page.inputValue('#judul'), title, 'the typed title is kept');
  assert.match(await page.inputValue('#isi'), /Lampu penerangan/);
  assert.match(await page.textContent('.alert.info'), /Pilih ulang lampiran/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'errors', 'focus moves to the error summary');
  await axe(page, 'form-errors');
  noProblems(ctx);
  await ctx.close();
});

test('the English toggle switches the language and it persists', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/laporan');
  assert.equal(await page.getAttribute('html', 'lang'), 'id');
  await page.getByRole('link', { name: 'Switch to English' }).click();
  await page.waitForURL(/\/laporan$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('h1')).trim(), 'Public reports');
  const nav = page.getByRole('navigation');
  await nav.getByRole('link', { name: 'File a report' }).waitFor();
  await nav.getByRole('link', { name: 'Track a report' }).click();
  await page.waitForURL(/\/lacak$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('h1'), /Track/);
  await page.goto('/');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await axe(page, 'home-en');
  await page.getByRole('link', { name: 'Ganti ke Bahasa Indonesia' }).click();
  await page.waitForURL(`${base}/`);
  assert.equal(await page.getAttribute('html', 'lang'), 'id');
  noProblems(ctx);
  await ctx.close();
});

test('login, register and account pages', async () => {
  const ctx = await newContext({ baseURL: base });
  const page = await ctx.newPage();
  await page.goto('/daftar');
  await axe(page, 'register');
  await page.goto('/masuk');
  await axe(page, 'login');
  await page.fill('#login', 'warga@lapor.demo');
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  await page.waitForURL('**/akun');
  assert.match(await page.textContent('h1'), /Akun/);
  await axe(page, 'account');
  await page.check('#n-email');
  await page.getByRole('button', { name: 'Simpan' }).click();
  await page.waitForURL('**/akun?tersimpan=1');
  assert.match(await page.textContent('.alert.ok'), /Tersimpan/);
  assert.equal(await page.isChecked('#n-email'), true);
  noProblems(ctx);
  await ctx.close();
});

test('screenshots at phone and desktop widths', { skip: !TAKE_SHOTS }, async () => {
  // A fuller public list for the pictures: two more reports, forwarded to Kota Bandung.
  const more = [
    ['aspirasi', 'Tambah jadwal bus Trans Metro Bandung pada jam sibuk', 'Bus koridor 2 selalu penuh antara pukul 06.00 dan 08.00; mohon jadwal ditambah agar warga tidak menunggu lama.', 'transportasi'],
    ['pengaduan', 'Lampu penerangan jalan padam di Jalan Dago', 'Sejak seminggu lampu penerangan jalan di depan taman padam sehingga jalan gelap dan rawan pada malam hari.', 'jalan'],
  ];
  for (const [classification, title, body, category] of more) {
    const r = await api('POST', '/reports', { body: { classification, title, body, category, region_code: '32.73', anonymous: false } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    await staff('POST', `/reports/${r.json.tracking_id}/disposition`, state.nasional, { institution: 'pemkot-32.73' });
  }
  const sizes = [
    { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true },
    { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
  ];
  for (const size of sizes) {
    const ctx = await newContext({ baseURL: base, storageState: state.reporterStorage, ...size });
    const page = await ctx.newPage();
    await page.goto('/');
    await shoot(page, 'home');
    await page.goto('/lapor');
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('#map img')];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth === 256);
    });
    await shoot(page, 'form');
    await page.goto(`/lacak/${state.a.id}`);
    assert.equal((await page.textContent('h1')).trim(), state.a.title);
    await shoot(page, 'track');
    await page.goto('/laporan');
    await shoot(page, 'public-list');
    noProblems(ctx);
    await ctx.close();
  }
});
