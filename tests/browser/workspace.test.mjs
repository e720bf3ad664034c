// Real-browser tests of the institution workspace (/staf): staff sign-in
// with a TOTP code computed here, verification and disposition down the
// tree, follow-up with a template and an internal note, transfer and accept,
// merge, keyboard triage with a bulk action, and a crawl of every workspace
// page as each institution role that must never show an anonymous
// reporter's identity. axe-core runs on every kind of workspace page.
//
//   node --test --test-concurrency=1 workspace.test.mjs      (or ./run.sh)
//
// The tests share one server and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, setUp, tearDown, newContext, noProblems, axe, api, freshTotp, totpAt, shoot, signIn, PASSWORD, TAKE_SHOTS,
} from './support.mjs';

// Who the anonymous reporter is: none of this may reach institution staff.
const SECRET_NAME = 'Sulastri Wiryaningrat';
const SECRET_EMAIL = 'sulastri.rahasia@contoh.id';
const SECRET_PHONE = '081298765432';

const state = {};
// Every workspace page kind that axe has checked, by route pattern.
const axed = new Set();

before(setUp);
after(tearDown);

/** A report filed through the public API; returns its Tracking ID and PIN. */
async function file(title, body, extra = {}) {
  const r = await api('POST', '/reports', {
    body: { classification: 'pengaduan', title, body, region_code: '32.73', category: 'jalan', anonymous: false, ...extra },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { id: r.json.tracking_id, pin: r.json.pin };
}

/** The route of a workspace URL with ids blanked, for "axe once per page kind". */
function route(url) {
  const u = new URL(url);
  return u.pathname.replace(/\/laporan\/[^/]+/, '/laporan/:id').replace(/\/atur-ulang\/.+/, '/atur-ulang/:t')
    + (u.searchParams.get('lihat') ? `?lihat=${u.searchParams.get('lihat')}` : '');
}

async function axeOnce(page, who) {
  const r = route(page.url());
  if (axed.has(r)) return;
  axed.add(r);
  await axe(page, `${who} ${r}`);
}

/** Opens a report from the queue page by searching for its words. */
async function openFromQueue(page, words, view) {
  await page.goto(`/staf${view ? `?lihat=${view}` : ''}`);
  await page.fill('#f-q', words);
  await page.getByRole('button', { name: 'Terapkan' }).click();
  await page.waitForURL(/q=/);
  // Keyboard triage: j moves to the first row, Enter opens it.
  await page.locator('body').press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/staf/laporan/**');
}

/** Submits one of the report page's action forms and waits for the answer page. */
async function act(page, formId, fill = async () => {}) {
  const form = page.locator(`#${formId}`);
  const details = form.locator('xpath=ancestor::details');
  if (await details.count()) await details.evaluate((d) => { d.open = true; });
  await fill(form);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && /\/aksi$/.test(new URL(r.url()).pathname)),
    form.locator('button[type=submit]').click(),
  ]);
  await page.waitForLoadState('load');
  const error = page.locator('#action-error');
  if (await error.count()) assert.fail(`${formId} was refused: ${await error.textContent()}`);
}

async function status(page) {
  return (await page.textContent('#status')).trim();
}

test('staff sign-in: a wrong code is refused, the computed TOTP code lets the national admin in', async () => {
  const ctx = await newContext();
  const page = await ctx.newPage();
  await page.goto('/staf');
  await page.waitForURL('**/staf/masuk**');
  await axeOnce(page, 'public');
  await page.fill('#login', 'nasional@lapor.demo');
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Lanjut' }).click();
  await page.waitForURL('**/staf/verifikasi**');
  await axeOnce(page, 'public');
  const step = Math.floor(Date.now() / 30_000);
  const right = new Set([-1, 0, 1].map((d) => totpAt('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', step + d)));
  const wrong = ['000000', '111111', '222222'].find((c) => !right.has(c));
  await page.fill('#kode', wrong);
  await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  assert.match(await page.textContent('.error'), /kode/i);
  await page.fill('#kode', await freshTotp('nasional@lapor.demo'));
  await page.getByRole('button', { name: 'Masuk', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/staf');
  assert.match(await page.textContent('h1'), /Antrean verifikasi/);
  await axeOnce(page, 'national');
  await page.goto('/staf/sesi');
  assert.match(await page.textContent('main'), /Verifikasi dua langkah aktif/);
  assert.match(await page.textContent('main'), /sesi ini/);
  await axeOnce(page, 'national');
  noProblems(ctx);
  state.national = { ctx, page };
});

test('verify → disposition to a regency → unit → follow-up with a template → the reporter sees it', async () => {
  const title = 'Lampu lalu lintas mati di simpang Cihampelas';
  const { id, pin } = await file(title, `Lampu lalu lintas di simpang Cihampelas mati sejak pagi dan membuat macet. Hubungi saya di ${SECRET_PHONE}.`, {
    anonymous: true,
    category: 'transportasi',
    reporter: { name: SECRET_NAME, email: SECRET_EMAIL },
  });
  state.anonymous = id;
  const { page } = state.national;

  // National verification: the queue finds it, the location suggests Kota Bandung.
  await openFromQueue(page, 'Cihampelas');
  assert.equal(new URL(page.url()).pathname, `/staf/laporan/${id}`);
  await axeOnce(page, 'national');
  const suggested = page.locator('#form-disposition input[type=radio][name=instansi]:checked');
  assert.equal(await suggested.getAttribute('value'), 'pemkot-32.73');
  assert.match(await page.textContent('#form-disposition fieldset'), /Kota Bandung/);
  // Personal data in the text is detected and can be masked before it travels on.
  assert.match(await page.textContent('.warn'), /telepon|phone/i);
  await act(page, 'form-redact');
  assert.doesNotMatch(await page.textContent('.body-text'), new RegExp(SECRET_PHONE));
  await act(page, 'form-disposition');
  assert.match(await status(page), /Diteruskan ke instansi/);
  assert.match(await page.textContent('#institution'), /Kota Bandung/);

  // The city: a reply template with placeholders, then accept and pass to a unit.
  state.city = await signIn('admin.bandung@lapor.demo');
  const city = state.city.page;
  await city.goto('/staf/templat');
  await axeOnce(city, 'city');
  await city.fill('#t-name-1', 'Sudah ditinjau');
  await city.fill('#t-body-1', 'Terima kasih atas laporan {{tracking_id}}. {{institution_from}} sudah meninjau lokasi dan menjadwalkan perbaikan.');
  await city.getByRole('button', { name: 'Simpan templat' }).first().click();
  await city.waitForURL('**/staf/templat');
  assert.match(await city.textContent('main'), /Sudah ditinjau/);

  await openFromQueue(city, 'Cihampelas', 'masuk');
  await axeOnce(city, 'city');
  assert.match(await city.textContent('#reporter'), /Anonim/);
  await act(city, 'form-accept');
  assert.match(await status(city), /Sedang ditindaklanjuti/);
  await act(city, 'form-unit', (f) => f.locator('#u-unit').selectOption('pemkot-32.73-dishub'));
  assert.match(await city.textContent('#institution'), /Dinas Perhubungan/);

  // The unit (its role needs no second factor) writes the follow-up with the city's template.
  state.unit = await signIn('unit.dishub@lapor.demo', { expectCode: false });
  const unit = state.unit.page;
  await openFromQueue(unit, 'Cihampelas', 'masuk');
  await axeOnce(unit, 'unit');
  await unit.locator('#follow-up-link').click();
  await unit.waitForURL('**/tindak-lanjut');
  await axeOnce(unit, 'unit');
  await unit.getByRole('link', { name: 'Sudah ditinjau' }).click();
  const filled = await unit.inputValue('#fu-body');
  assert.match(filled, new RegExp(`laporan ${id}\\.`));
  assert.match(filled, /Dinas Perhubungan Kota Bandung sudah meninjau/);
  assert.doesNotMatch(filled, /\{\{/);
  await unit.fill('#fu-note', 'Catatan internal: suku cadang dari pos pemeliharaan rutin.');
  await unit.setInputFiles('#fu-files', { name: 'bukti.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n') });
  if (TAKE_SHOTS) {
    await unit.setViewportSize({ width: 1280, height: 900 });
    await shoot(unit, 'workspace-follow-up');
  }
  await unit.getByRole('button', { name: 'Kirim tindak lanjut' }).click();
  await unit.waitForURL(`**/staf/laporan/${id}?ok=1`);
  assert.match(await status(unit), /Dibalas instansi/);
  assert.match(await unit.textContent('.timeline'), /suku cadang dari pos pemeliharaan rutin/);

  // The reporter, with the Tracking ID and PIN, sees the answer and the file, never the note.
  const rctx = await newContext();
  const reporter = await rctx.newPage();
  await reporter.goto('/lacak');
  await reporter.fill('#id', id);
  await reporter.fill('#pin', pin);
  await reporter.click('form.narrow button[type=submit]');
  await reporter.waitForURL(`**/lacak/${id}`);
  const timeline = await reporter.textContent('.timeline');
  assert.match(timeline, /sudah meninjau lokasi dan menjadwalkan perbaikan/);
  assert.doesNotMatch(timeline, /suku cadang/);
  assert.match(await reporter.textContent('main'), /bukti\.pdf/);
  noProblems(rctx);
  await rctx.close();
  noProblems(state.city.ctx);
  noProblems(state.unit.ctx);
});

test('transfer ("bukan wewenang") with a reason; a new ministry admin enrols a second factor and accepts', async () => {
  const { id } = await file('Stok obat kosong di puskesmas kecamatan', 'Sudah dua minggu obat hipertensi tidak tersedia di puskesmas.', { category: 'kesehatan' });
  const { page } = state.national;
  await page.goto(`/staf/laporan/${id}`);
  await act(page, 'form-disposition');
  const city = state.city.page;
  await city.goto(`/staf/laporan/${id}`);
  const reason = 'Pengadaan obat program nasional adalah kewenangan Kementerian Kesehatan.';
  await act(city, 'form-transfer', async (f) => {
    await f.locator('#t-inst').fill('kemenkes');
    await f.locator('#t-reason').fill(reason);
  });
  // The city may no longer handle it: back to its queue.
  assert.equal(new URL(city.url()).pathname, '/staf');

  // The national admin creates the ministry's admin.
  await page.goto('/staf/pengguna');
  await axeOnce(page, 'national');
  await page.fill('#u-name', 'Admin Kemenkes');
  await page.fill('#u-email', 'admin.kemenkes@lapor.demo');
  await page.fill('#u-pass', 'kemenkes-sandi-2026');
  await page.selectOption('#u-role', 'institution_admin');
  await page.fill('#u-inst', 'kemenkes');
  await page.getByRole('button', { name: 'Tambah' }).click();
  await page.waitForURL('**/staf/pengguna');
  assert.match(await page.textContent('table'), /admin\.kemenkes@lapor\.demo/);

  // First sign-in: the role requires a second factor, so enrolment comes first.
  const ctx = await newContext();
  const m = await ctx.newPage();
  await m.goto('/staf/masuk');
  await m.fill('#login', 'admin.kemenkes@lapor.demo');
  await m.fill('#password', 'kemenkes-sandi-2026');
  await m.getByRole('button', { name: 'Lanjut' }).click();
  await m.waitForURL('**/staf/verifikasi/daftar');
  await axeOnce(m, 'ministry');
  assert.equal(await m.locator('.qr svg').count(), 1, 'a QR code to scan');
  const key = (await m.textContent('#totp-secret')).trim();
  await m.fill('#kode', await freshTotp('admin.kemenkes@lapor.demo', key));
  await m.getByRole('button', { name: 'Aktifkan' }).click();
  await m.waitForSelector('#recovery-codes');
  assert.equal(await m.locator('#recovery-codes li').count(), 10);
  await axeOnce(m, 'ministry');
  await m.getByRole('link', { name: 'Ke antrean' }).click();
  await m.waitForURL((u) => u.pathname === '/staf');

  await openFromQueue(m, 'puskesmas', 'masuk');
  assert.match(await m.textContent('.timeline'), new RegExp(reason.slice(0, 40)));
  await act(m, 'form-accept');
  assert.match(await status(m), /Sedang ditindaklanjuti/);
  noProblems(ctx);
  state.ministry = { ctx, page: m, key };
});

test('merge of two duplicates, with the original suggested', async () => {
  const first = await file('Lampu penerangan jalan mati di Jalan Riau', 'Sudah tiga malam lampu penerangan jalan di Jalan Riau mati total.', { category: 'listrik-air' });
  const dup = await file('Lampu penerangan jalan di Jalan Riau mati', 'Lampu penerangan jalan Jalan Riau mati sejak beberapa malam.', { category: 'listrik-air' });
  const { page } = state.national;
  await page.goto(`/staf/laporan/${dup.id}`);
  const suggestion = page.locator(`#form-merge input[type=radio][value="${first.id}"]`);
  assert.equal(await suggestion.count(), 1, 'the original is suggested');
  await act(page, 'form-merge', (f) => suggestion.check());
  assert.match(await status(page), /Digabung/);
  assert.match(await page.textContent('.timeline'), /Digabung dengan laporan lain/);
});

test('keyboard triage: j/x select two rows, a bulk archive takes both', async () => {
  const a = await file('Iklan pinjaman online tanpa izin nomor satu', 'Iklan pinjaman online tanpa izin di grup warga.', { category: 'lainnya' });
  const b = await file('Iklan pinjaman online tanpa izin nomor dua', 'Iklan pinjaman online tanpa izin lagi di grup warga.', { category: 'lainnya' });
  const { page } = state.national;
  await page.goto('/staf');
  await page.fill('#f-q', 'pinjaman');
  await page.getByRole('button', { name: 'Terapkan' }).click();
  await page.waitForURL(/q=pinjaman/);
  assert.equal(await page.locator('table[data-queue] tbody tr').count(), 2);
  // On a phone the rows are cards; still accessible.
  await page.setViewportSize({ width: 390, height: 844 });
  await axe(page, 'national /staf (phone)');
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.locator('body').press('j');
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  assert.equal(await page.locator('input[name=pilih]:checked').count(), 2);
  if (TAKE_SHOTS) {
    // A fuller queue for the pictures, and the handling page of a pending report.
    for (const [t, b, k] of [
      ['Jalan amblas di depan SDN Sukajadi', 'Badan jalan amblas sedalam 30 cm dan belum diberi rambu.', 'jalan'],
      ['Antrean BPJS di puskesmas sejak subuh', 'Pasien lansia harus antre sejak pukul 04.00 tanpa nomor antrean.', 'kesehatan'],
      ['Sampah menumpuk di TPS Pasar Kosambi', 'Sampah tidak diangkut selama seminggu dan baunya menyengat.', 'lingkungan'],
      ['Pungutan liar saat mengurus KTP-el', 'Petugas kelurahan meminta uang Rp50.000 untuk mempercepat KTP-el.', 'adminduk'],
      ['Bantuan sosial tidak tepat sasaran', 'Warga mampu menerima bantuan sementara tetangga lansia tidak.', 'bansos'],
    ]) await file(t, b, { category: k });
    await page.goto('/staf');
    for (const size of [{ width: 390, height: 844 }, { width: 1280, height: 900 }]) {
      await page.setViewportSize(size);
      await shoot(page, 'workspace-queue');
    }
    await page.goto(`/staf/laporan/${a.id}`);
    await shoot(page, 'workspace-report');
    await page.goto('/staf?q=pinjaman');
    await page.locator('body').press('j');
    await page.keyboard.press('x');
    await page.keyboard.press('j');
    await page.keyboard.press('x');
  }
  await page.selectOption('#b-aksi', 'arsip');
  await page.selectOption('#b-alasan', 'spam');
  await page.getByRole('button', { name: 'Jalankan' }).click();
  await page.waitForURL(/ok=2/);
  assert.match(await page.textContent('.notice'), /2/);
  for (const r of [a, b]) {
    await page.goto(`/staf/laporan/${r.id}`);
    assert.match(await status(page), /Diarsipkan/);
  }
  noProblems(state.national.ctx);
});

test('the national admin\'s pages and the password-reset pages are accessible too', async () => {
  const { page } = state.national;
  await page.goto('/staf/aturan');
  assert.match(await page.textContent('main'), /akurasi|Akurasi/);
  await axeOnce(page, 'national');
  await page.goto('/staf/instansi');
  await axeOnce(page, 'national');
  await page.goto(`/staf/audit?sasaran=${state.anonymous}`);
  assert.match(await page.textContent('table'), /report\.dispositioned/);
  await axeOnce(page, 'national');
  // Deadlines and deliveries: the inbox, the delivery queue, the template
  // editor and the calendar with its provisional-year warning.
  await page.goto('/staf/kotak-masuk');
  await axeOnce(page, 'national');
  await page.goto('/staf/pengiriman');
  assert.match(await page.textContent('main'), /Antrean per topik/);
  await axeOnce(page, 'national');
  await page.goto('/staf/templat-notifikasi');
  assert.ok(await page.locator('textarea[name=isi]').count() >= 14);
  await axeOnce(page, 'national');
  await page.goto('/staf/kalender');
  assert.match(await page.textContent('main'), /2027/);
  await axeOnce(page, 'national');
  // The channels' handler inbox: a WhatsApp chat abandoned midway becomes
  // a report filed for its sender; then the block list.
  await page.goto('/staf/saluran');
  assert.match(await page.textContent('main'), /TPS Cicadas/);
  await axeOnce(page, 'national');
  const item = page.locator('section.card', { hasText: 'TPS Cicadas' });
  await item.locator('summary').click();
  await axe(page, 'national channel inbox, form open');
  await item.getByRole('button', { name: 'Catat sebagai laporan' }).click();
  await page.waitForURL(/\/staf\/laporan\//);
  assert.match(await page.textContent('main'), /Sampah menumpuk di TPS Cicadas/);
  await page.goto('/staf/saluran/blokir');
  await page.fill('#pengirim', '6281200001111');
  await page.fill('#alasan', 'iklan berulang');
  await page.getByRole('button', { name: 'Blokir', exact: true }).click();
  await page.waitForSelector('text=iklan berulang');
  await axeOnce(page, 'national');
  // Integration: the city becomes a connected system with an API client,
  // whose key is shown once.
  await page.goto('/staf/integrasi?instansi=pemkot-32.73');
  await axeOnce(page, 'national');
  await page.selectOption('#mode', 'connected');
  await page.getByRole('button', { name: 'Simpan', exact: true }).click();
  await page.waitForSelector('text=terhubung (sistem sendiri)');
  await page.fill('#nama-klien', 'SIMPEL Kota Bandung');
  await page.getByRole('button', { name: 'Buat klien' }).click();
  const key = await page.inputValue('#rahasia');
  assert.match(key, /^lapor_ic-/);
  await axe(page, 'national integration, client created');
  const ctx = await newContext();
  const anon = await ctx.newPage();
  await anon.goto('/staf/lupa-sandi');
  await axeOnce(anon, 'public');
  await anon.fill('#email', 'admin.bandung@lapor.demo');
  await anon.getByRole('button', { name: 'Kirim tautan' }).click();
  await anon.waitForSelector('[role=status]');
  await axe(anon, 'public reset-sent');
  const res = await anon.goto('/staf/atur-ulang/bukan-token-yang-sah');
  assert.ok(res.status() < 500);
  await axe(anon, 'public reset-invalid');
  noProblems(ctx);
  await ctx.close();
});

test('no institution role ever sees the anonymous reporter: crawl every workspace page', async () => {
  const roles = [
    ['city', state.city],
    ['ministry', state.ministry],
    ['unit', state.unit],
    ['liaison', await signIn('penghubung.bandung@lapor.demo', { expectCode: false })],
    ['supervisor', await signIn('pengawas.jabar@lapor.demo', { expectCode: false })],
  ];
  const secret = new RegExp([SECRET_NAME, SECRET_EMAIL, SECRET_PHONE, 'Sulastri'].join('|'), 'i');
  for (const [who, { ctx }] of roles) {
    const page = await ctx.newPage();
    const seen = new Set();
    const downloads = new Set();
    const todo = ['/staf', '/staf?lihat=masuk', '/staf?lihat=pengawasan', `/staf/laporan/${state.anonymous}`];
    let pages = 0;
    while (todo.length && pages < 80) {
      const path = todo.shift();
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await page.goto(path);
      pages++;
      const html = await page.content();
      assert.doesNotMatch(html, secret, `${who} saw the anonymous reporter on ${path}`);
      if (res.status() !== 200) continue; // refused pages say so, and show nothing
      await axeOnce(page, who);
      const links = await page.$$eval('a[href^="/staf"]', (as) => as.map((a) => a.getAttribute('href')));
      for (const l of links) {
        if (seen.has(l)) continue;
        // Downloads (CSV exports) are read as files, not navigated to.
        if (l.includes('format=csv') || l.includes('/ekspor')) downloads.add(l);
        else todo.push(l);
      }
    }
    for (const l of downloads) {
      const file = await ctx.request.get(l);
      assert.ok(file.status() < 500, `${who}: ${l} answered ${file.status()}`);
      assert.doesNotMatch(await file.text(), secret, `${who} saw the anonymous reporter in ${l}`);
    }
    // The CSV export (where the role may have it) as well.
    const csv = await ctx.request.get('/staf/audit?format=csv');
    assert.doesNotMatch(await csv.text(), secret, `${who}: audit CSV`);
    assert.ok(pages >= 3, `${who} crawled ${pages} pages`);
    noProblems(ctx);
  }
  for (const [, { ctx }] of roles) await ctx.close();
  await state.national.ctx.close();
  console.log(`workspace page kinds checked by axe: ${[...axed].sort().join(', ')}`);
});
