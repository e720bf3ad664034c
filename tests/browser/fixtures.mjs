// Files the browser tests upload, built byte by byte so that what they
// contain (and what the server must strip) is known exactly.


/** A JPEG segment: marker, big-endian length (counting itself), payload. */
function segment(marker, payload) {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** A big-endian TIFF IFD entry. `value` is 4 bytes: inline data or an offset. */
function ifdEntry(tag, type, count, value) {
  const e = Buffer.alloc(12);
  e.writeUInt16BE(tag, 0);
  e.writeUInt16BE(type, 2);
  e.writeUInt32BE(count, 4);
  value.copy(e, 8);
  return e;
}

const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const rationals = (pairs) => Buffer.concat(pairs.flatMap(([n, d]) => [u32(n), u32(d)]));

/**
 * The GPS part of the Exif block, returned separately so the test can look
 * for it in the served file. Offsets are from the TIFF header; this IFD
 * starts at `at`, its rational values right after it.
 */
function gpsIfd(at) {
  const entries = 4;
  const dataAt = at + 2 + entries * 12 + 4;
  const lat = rationals([[6, 1], [54, 1], [5292, 100]]);
  const lon = rationals([[107, 1], [36, 1], [3528, 100]]);
  const ifd = Buffer.concat([
    u16(entries),
    ifdEntry(0x0001, 2, 2, Buffer.from('S\0\0\0', 'latin1')), // GPSLatitudeRef
    ifdEntry(0x0002, 5, 3, u32(dataAt)), // GPSLatitude
    ifdEntry(0x0003, 2, 2, Buffer.from('E\0\0\0', 'latin1')), // GPSLongitudeRef
    ifdEntry(0x0004, 5, 3, u32(dataAt + lat.length)), // GPSLongitude
    u32(0), // no next IFD
  ]);
  return { ifd, values: Buffer.concat([lat, lon]) };
}

/**
 * An 8×8 mid-grey baseline JPEG carrying an Exif APP1 segment whose IFD0
 * points to a GPS IFD. The one block is all zeros after the level shift, so
 * the scan is two one-bit Huffman codes: DC difference category 0, then EOB.
 */
export function exifJpeg() {
  const tiffHeader = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]); // "MM", 42, IFD0 at 8
  const ifd0At = 8;
  const gpsAt = ifd0At + 2 + 12 + 4;
  const ifd0 = Buffer.concat([u16(1), ifdEntry(0x8825, 4, 1, u32(gpsAt)), u32(0)]); // GPSInfo pointer
  const gps = gpsIfd(gpsAt);
  const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiffHeader, ifd0, gps.ifd, gps.values]);

  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]);
  const sof0 = Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0]); // 8 bits, 8×8, one component
  const oneCodeTable = (cls) => Buffer.concat([Buffer.from([cls]), Buffer.from([1, ...Array(15).fill(0)]), Buffer.from([0x00])]);
  const sos = Buffer.from([1, 1, 0x00, 0, 63, 0]);
  const jpeg = Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, jfif),
    segment(0xe1, exif),
    segment(0xdb, dqt),
    segment(0xc0, sof0),
    segment(0xc4, oneCodeTable(0x00)), // DC table 0: symbol 0 (category 0) = "0"
    segment(0xc4, oneCodeTable(0x10)), // AC table 0: symbol 0 (EOB) = "0"
    segment(0xda, sos),
    Buffer.from([0x3f]), // "00" then 1-padding
    Buffer.from([0xff, 0xd9]),
  ]);
  return { jpeg, gpsIfd: gps.ifd, gpsValues: gps.values, gpsPointer: ifd0.subarray(2, 14) };
}
