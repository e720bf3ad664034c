// The installable app's first open, measured: the form at phone size in a
// fresh Chromium, N times unthrottled (the baseline) and N times on slow 3G
// (WebPageTest's "3G Slow": 400 ms round trip, 400 kbit/s). Prints the bytes
// on the wire from Lapor's origin and the median first contentful paint and
// load time of each, with the ratio. Targets (issue 9): shell < 150 KB,
// form painted < 3 s on slow 3G.
//
//   node bench/app-shell/run.mjs [runs]     (default 5; uses the browser
//   tests' harness, so run tests/browser/run.sh once first to install it)
import { setUp, tearDown, firstOpen, SLOW_3G, env } from '../../tests/browser/support.mjs';

const runs = Number(process.argv[2] ?? 5);
const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await setUp();
try {
  const rows = {};
  for (const [name, throttle] of [['unthrottled', null], ['slow 3G', SLOW_3G]]) {
    const got = [];
    for (let i = 0; i < runs; i++) got.push(await firstOpen(phone, throttle));
    rows[name] = { bytes: median(got.map((g) => g.total)), fcp: median(got.map((g) => g.fcp)), load: median(got.map((g) => g.load)), parts: got[0].parts };
  }
  const base = rows.unthrottled;
  const slow = rows['slow 3G'];
  console.log(`\napp shell, first open of /lapor at 360x740 (${runs} runs each, medians), server ${env.base}`);
  console.log(`  on the wire: ${slow.bytes} bytes (${(slow.bytes / 1024).toFixed(1)} KB; target < 150 KB): ${slow.parts.join(', ')}`);
  console.log('  | | unthrottled | slow 3G | ratio |');
  console.log('  |---|---:|---:|---:|');
  console.log(`  | first contentful paint | ${base.fcp} ms | ${slow.fcp} ms | ${(slow.fcp / base.fcp).toFixed(1)}x |`);
  console.log(`  | load event | ${base.load} ms | ${slow.load} ms | ${(slow.load / base.load).toFixed(1)}x |`);
  console.log(`  slow 3G first paint target < 3000 ms: ${slow.fcp < 3000 ? 'met' : 'MISSED'}`);
} finally {
  await tearDown();
}
