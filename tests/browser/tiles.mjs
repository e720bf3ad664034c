// A stand-in for a map tile server, so the report form's map picker can be
// exercised with no network: every /{z}/{x}/{y}.png answers the same
// 256×256 solid-colour PNG, generated here (no binary fixtures).
//
//   node tiles.mjs [PORT]     serves on 127.0.0.1 (PORT 0 or absent: any free port)
import { createServer } from 'node:http';
import { deflateSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC), as PNG chunks use. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A truecolour PNG of one colour. */
export function solidPng(width, height, [r, g, b]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  // compression, filter and interlace methods stay 0
  const row = Buffer.alloc(1 + width * 3); // filter byte 0, then pixels
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const TILE = solidPng(256, 256, [0xe4, 0xec, 0xdc]);

/**
 * Starts the tile server. Resolves to { url, template, hits, close } where
 * `template` is the {z}/{x}/{y} URL for LAPOR_TILE_URL and `hits` counts
 * tiles served.
 */
export function startTileServer(port = 0) {
  const state = { hits: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'GET' && /^\/\d{1,2}\/\d{1,7}\/\d{1,7}\.png$/.test(req.url)) {
      state.hits++;
      res.writeHead(200, {
        'content-type': 'image/png',
        'content-length': TILE.length,
        'cache-control': 'public, max-age=3600',
      });
      res.end(TILE);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not a tile\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        template: `${url}/{z}/{x}/{y}.png`,
        get hits() { return state.hits; },
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = await startTileServer(Number(process.argv[2] ?? 0));
  console.log(`tiles at ${t.template}`);
}
