// Real-browser tests of the monitoring dashboards (/staf/dasbor) over a
// generated national history (`lapor bench-data`): the charts and the maps
// render and recolour, the ranking sorts, CSV and XLSX exports download,
// the evaluation report opens, a province supervisor sees their province
// (and its map) and nothing national, and axe-core finds no serious or
// critical violation. Screenshots of the national and province dashboards
// and of the map.
//
//   node --test --test-concurrency=1 dashboard.test.mjs      (or ./run.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, tearDown, noProblems, axe, shoot, signIn } from './support.mjs';

const PHONE = { viewport: { width: 390, height: 844 } };

before(() => setUp({ benchData: 3000 }));
after(tearDown);

/** The numbers of one ranking column, in page order ("72,5 %" → 72.5, "–" → null). */
async function column(page, index) {
  const cells = await page.locator('#ranking tbody tr').evaluateAll(
    (rows, i) => rows.map((r) => r.children[i]?.textContent.trim() ?? ''),
    index,
  );
  return cells.map((t) => (t === '–' ? null : Number(t.replace(/[^\d,.-]/g, '').replace(/\./g, '').replace(',', '.'))));
}

test('national dashboard: figures, trend and breakdown charts, ranking sorts both ways, CSV downloads', async () => {
  const { ctx, page } = await signIn('nasional@lapor.demo');
  await page.goto('/staf/dasbor');
  await page.getByRole('heading', { level: 1, name: /Dasbor pemantauan/ }).waitFor();
  // The trend chart draws a line per series with a point per week.
  const trend = page.locator('svg#tren');
  await trend.waitFor();
  assert.ok((await trend.locator('circle').count()) >= 2 * 12, 'a point per week for both series');
  assert.match(await trend.getAttribute('aria-labelledby'), /tren-t tren-d/);
  // Breakdowns by category and channel have bars.
  assert.ok((await page.locator('svg#kategori rect').count()) >= 5);
  assert.ok((await page.locator('svg#kanal rect').count()) >= 5);
  const submitted = await page.locator('.kpi', { hasText: 'Laporan masuk' }).locator('.kpi-value').textContent();
  assert.ok(Number(submitted.replace(/\./g, '')) > 1000, `submitted ${submitted}`);
  // The province map: 38 regions, a legend, and the table beside it.
  const map = page.locator('svg#peta-svg');
  assert.equal(await map.locator('path').count(), 38);
  assert.ok((await page.locator('#peta .legend li').count()) >= 3, 'legend classes');
  assert.equal(await page.locator('#peta .map-table tbody tr').count(), 38);
  await axe(page, 'dasbor nasional');
  await shoot(page, 'dashboard-national');
  // Recolour: regencies and cities by overdue reports.
  await page.selectOption('#peta-level', 'kabkota');
  await page.selectOption('#peta-ind', 'tunggakan');
  await page.locator('#peta-form button[type=submit]').click();
  await page.waitForURL(/peta=kabkota&indikator=tunggakan/);
  assert.equal(await map.locator('path').count(), 514);
  await page.getByRole('heading', { name: /Peta: Lewat batas/ }).waitFor();
  const fills = new Set(await map.locator('path').evaluateAll((ps) => ps.map((p) => p.getAttribute('fill'))));
  assert.ok(fills.size >= 3, `regions in ${fills.size} colours`);
  await axe(page, 'dasbor peta kabkota');
  await shoot(page, 'dashboard-map', { part: page.locator('#peta') });

  // The evaluation report: the same view laid out for paper.
  await page.goto('/staf/dasbor');
  await page.locator('#evaluation-link').click();
  await page.getByRole('heading', { level: 1, name: /Laporan evaluasi/ }).waitFor();
  await page.getByRole('heading', { name: 'Definisi indikator' }).waitFor();
  assert.equal(await page.locator('#saring').count(), 0, 'no filter form on paper');
  await axe(page, 'laporan evaluasi');
  await page.goto('/staf/dasbor');

  // The Kemendagri view: every regional government, graded.
  await page.getByRole('link', { name: 'Pemerintah daerah' }).click();
  await page.waitForURL(/lingkup=pemda/);
  assert.ok((await page.locator('#ranking tbody tr').count()) > 500, 'every regional government');
  assert.ok((await page.locator('#ranking .grade').count()) > 500, 'each graded');
  // Sorting by "Ditindaklanjuti": the first click sorts descending, the second ascending.
  const head = page.locator('#ranking thead th', { hasText: 'Ditindaklanjuti' });
  await head.getByRole('link').click();
  await page.waitForURL(/urut=tindak&arah=turun/);
  assert.equal(await head.getAttribute('aria-sort'), 'descending');
  let values = (await column(page, 2)).filter((v) => v !== null);
  assert.ok(values.length > 10);
  assert.deepEqual(values, [...values].sort((a, b) => b - a), 'descending');
  await head.getByRole('link').click();
  await page.waitForURL(/urut=tindak&arah=naik/);
  values = (await column(page, 2)).filter((v) => v !== null);
  assert.deepEqual(values, [...values].sort((a, b) => a - b), 'ascending');
  await axe(page, 'dasbor pemda');

  // The ranking's CSV downloads with a row per government.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-ranking').click()]);
  assert.match(download.suggestedFilename(), /^lapor-peringkat-pemda-.*\.csv$/);
  const csv = await (await download.createReadStream()).toArray();
  const lines = Buffer.concat(csv).toString('utf8').trim().split('\n');
  assert.match(lines[0], /^code,name,kind,includes_below,submitted,received,/);
  assert.ok(lines.length > 500, `${lines.length} lines`);
  // And as a workbook.
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('#export-ranking-xlsx').click()]);
  assert.match(xlsx.suggestedFilename(), /^lapor-peringkat-pemda-.*\.xlsx$/);
  const book = Buffer.concat(await (await xlsx.createReadStream()).toArray());
  assert.equal(book.subarray(0, 4).toString('binary'), 'PK\x03\x04', 'a zip, as XLSX is');

  // A bad filter gets a clear message, not a broken page.
  const r = await page.goto('/staf/dasbor?dari=31-12-2026');
  assert.equal(r.status(), 400);
  await page.getByText('TTTT-BB-HH').waitFor();
  noProblems(ctx);
  await ctx.close();
});

test('a province supervisor sees the province with its regencies, on a phone, and no national view', async () => {
  const { ctx, page } = await signIn('pengawas.jabar@lapor.demo', { expectCode: false, context: PHONE });
  await page.goto('/staf/dasbor');
  await page.getByRole('heading', { level: 1, name: /Jawa Barat/ }).waitFor();
  await page.locator('svg#tren').waitFor();
  const rows = await page.locator('#ranking tbody tr th').allTextContents();
  assert.ok(rows.some((t) => /Kota Bandung/.test(t)), 'its regencies and cities are ranked');
  assert.ok(!rows.some((t) => /Jawa Tengah|Kementerian/.test(t)), 'nothing outside the province');
  // The province's map: its 27 regencies and cities.
  assert.equal(await page.locator('svg#peta-svg path').count(), 27);
  // The phone layout keeps the page within the screen; the ranking scrolls inside its box.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page wider than the phone by ${overflow}px`);
  await axe(page, 'dasbor provinsi');
  await shoot(page, 'dashboard-province');
  // Opening a regency of the province works; the national view is refused.
  await page.locator('#ranking tbody tr th a', { hasText: 'Kota Bandung' }).first().click();
  await page.getByRole('heading', { level: 1, name: /Kota Bandung/ }).waitFor();
  const national = await page.goto('/staf/dasbor?lingkup=nasional');
  assert.equal(national.status(), 403);
  noProblems(ctx);
  await ctx.close();
});
