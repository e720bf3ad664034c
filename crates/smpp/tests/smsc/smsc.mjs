// Test SMSC for lapor-smpp's integration test, built on the npm `smpp` package so the Rust
// ESME is checked against an independent implementation.
//
// Usage: node smsc.mjs [--port N] [--system-id ID] [--password PW]
//   --port 0 (the default) picks a free port; it is reported in the "listening" event.
//
// stdout: one JSON object per line, each with an "event" field:
//   listening {port} | bind {ok, system_id, ...} | submit_sm_part {...} | submit_sm {from, to, text,
//   parts, data_coding, message_ids} | deliver_sent {parts, sequence_numbers} | deliver_sm_resp
//   {command_status, sequence_number} | enquire_link | enquire_link_resp | unbind | unbind_resp |
//   close | error {message}
// stdin: one JSON command per line, acting on the most recently bound session:
//   {"cmd":"deliver","from":"62812...","to":"1708","text":"...","encoding":"gsm"|"ucs2",
//    "ref16":false,"reverse":false}
//   {"cmd":"receipt","from":"62812...","to":"1708","message_id":"msg-1","stat":"DELIVRD"}
//   {"cmd":"enquire_link"} | {"cmd":"unbind"} | {"cmd":"quit"}

import readline from 'node:readline';
import smpp from 'smpp';

const args = process.argv.slice(2);
function arg(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const port = Number(arg('--port', '0'));
const systemId = arg('--system-id', 'lapor');
const password = arg('--password', 'secret');

const log = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

let current = null;
let nextMessageId = 0;
let nextRef = 17;
// Incoming concatenated submit_sm parts: key "from|ref|total" -> {parts: [], ids: [], got}
const groups = new Map();

function concatInfo(udhList) {
  for (const ie of udhList || []) {
    if (ie[0] === 0x00 && ie[1] === 3) return { ref: ie[2], total: ie[3], seq: ie[4] };
    if (ie[0] === 0x08 && ie[1] === 4) return { ref: ie.readUInt16BE(2), total: ie[4], seq: ie[5] };
  }
  return null;
}

function onSubmit(session, pdu) {
  const messageId = `msg-${++nextMessageId}`;
  session.send(pdu.response({ message_id: messageId }));
  const sm = pdu.short_message || {};
  const text = typeof sm === 'string' ? sm : typeof sm.message === 'string' ? sm.message : '';
  const concat = concatInfo(sm.udh);
  log({
    event: 'submit_sm_part',
    sequence_number: pdu.sequence_number,
    from: pdu.source_addr,
    to: pdu.destination_addr,
    source_addr_ton: pdu.source_addr_ton,
    dest_addr_ton: pdu.dest_addr_ton,
    esm_class: pdu.esm_class,
    data_coding: pdu.data_coding,
    registered_delivery: pdu.registered_delivery,
    concat,
    text,
    message_id: messageId,
  });
  if (!concat || concat.total === 1) {
    log({ event: 'submit_sm', from: pdu.source_addr, to: pdu.destination_addr, text, parts: 1,
      data_coding: pdu.data_coding, message_ids: [messageId] });
    return;
  }
  const key = `${pdu.source_addr}|${pdu.destination_addr}|${concat.ref}|${concat.total}`;
  let group = groups.get(key);
  if (!group) {
    group = { parts: new Array(concat.total).fill(null), ids: new Array(concat.total).fill(null), got: 0 };
    groups.set(key, group);
  }
  if (group.parts[concat.seq - 1] === null) {
    group.parts[concat.seq - 1] = text;
    group.ids[concat.seq - 1] = messageId;
    group.got += 1;
  }
  if (group.got === concat.total) {
    groups.delete(key);
    log({ event: 'submit_sm', from: pdu.source_addr, to: pdu.destination_addr, text: group.parts.join(''),
      parts: concat.total, data_coding: pdu.data_coding, message_ids: group.ids });
  }
}

// Splits encoded text into SMS payloads the way a handset would: no UDH when it fits one SMS,
// otherwise 153 septets / 134 octets per part, not cutting an escape or a surrogate pair.
function splitPayload(bytes, encoding) {
  const single = encoding === 'ucs2' ? 140 : 160;
  const per = encoding === 'ucs2' ? 134 : 153;
  if (bytes.length <= single) return [bytes];
  const out = [];
  let at = 0;
  while (at < bytes.length) {
    let end = Math.min(at + per, bytes.length);
    if (end < bytes.length) {
      if (encoding === 'gsm' && bytes[end - 1] === 0x1b) end -= 1;
      if (encoding === 'ucs2' && (bytes.readUInt16BE(end - 2) & 0xfc00) === 0xd800) end -= 2;
    }
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

function encodeText(text, encoding) {
  if (encoding === 'ucs2') return Buffer.from(text, 'utf16le').swap16();
  return smpp.gsmCoder.encode(text, 0x00);
}

function deliver(cmd) {
  const encoding = cmd.encoding === 'ucs2' ? 'ucs2' : 'gsm';
  const chunks = splitPayload(encodeText(cmd.text, encoding), encoding);
  const ref = (nextRef++) & (cmd.ref16 ? 0xffff : 0xff);
  const pdus = chunks.map((chunk, i) => {
    let udh = Buffer.alloc(0);
    if (chunks.length > 1) {
      udh = cmd.ref16
        ? Buffer.from([6, 0x08, 4, ref >> 8, ref & 0xff, chunks.length, i + 1])
        : Buffer.from([5, 0x00, 3, ref, chunks.length, i + 1]);
    }
    return {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: cmd.from,
      destination_addr: cmd.to || '1708',
      esm_class: chunks.length > 1 ? 0x40 : 0,
      data_coding: encoding === 'ucs2' ? 0x08 : 0x00,
      short_message: Buffer.concat([udh, chunk]),
    };
  });
  if (cmd.reverse) pdus.reverse();
  const sequenceNumbers = [];
  for (const p of pdus) {
    const pdu = new smpp.PDU('deliver_sm', p);
    current.send(pdu);
    sequenceNumbers.push(pdu.sequence_number);
  }
  log({ event: 'deliver_sent', parts: pdus.length, sequence_numbers: sequenceNumbers });
}

function receipt(cmd) {
  const stat = cmd.stat || 'DELIVRD';
  const text = `id:${cmd.message_id} sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 ` +
    `stat:${stat} err:000 text:`;
  const pdu = new smpp.PDU('deliver_sm', {
    source_addr: cmd.from,
    destination_addr: cmd.to || '1708',
    esm_class: 0x04,
    data_coding: 0x00,
    short_message: Buffer.from(text, 'latin1'),
    receipted_message_id: cmd.message_id,
    message_state: stat === 'DELIVRD' ? 2 : 5,
  });
  current.send(pdu);
  log({ event: 'deliver_sent', parts: 1, sequence_numbers: [pdu.sequence_number] });
}

const server = smpp.createServer((session) => {
  session.on('error', (e) => log({ event: 'error', message: String(e && e.message) }));
  session.on('close', () => {
    if (current === session) current = null;
    log({ event: 'close' });
  });
  session.on('bind_transceiver', (pdu) => {
    const ok = pdu.system_id === systemId && pdu.password === password;
    log({ event: 'bind', ok, system_id: pdu.system_id, system_type: pdu.system_type,
      interface_version: pdu.interface_version, address_range: pdu.address_range });
    if (!ok) {
      const status = pdu.system_id === systemId ? smpp.ESME_RINVPASWD : smpp.ESME_RINVSYSID;
      session.send(pdu.response({ command_status: status }));
      session.close();
      return;
    }
    session.send(pdu.response({ system_id: 'node-smsc' }));
    current = session;
  });
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
  session.on('enquire_link', (pdu) => {
    session.send(pdu.response());
    log({ event: 'enquire_link', sequence_number: pdu.sequence_number });
  });
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    log({ event: 'unbind' });
    session.close();
  });
  for (const name of ['deliver_sm_resp', 'enquire_link_resp', 'unbind_resp', 'generic_nack']) {
    session.on(name, (pdu) => log({ event: name, command_status: pdu.command_status,
      sequence_number: pdu.sequence_number }));
  }
});

server.listen(port, '127.0.0.1', () => log({ event: 'listening', port: server.address().port }));

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    log({ event: 'error', message: `bad command: ${line}` });
    return;
  }
  if (cmd.cmd === 'quit') process.exit(0);
  if (!current) {
    log({ event: 'error', message: `no bound session for ${cmd.cmd}` });
    return;
  }
  switch (cmd.cmd) {
    case 'deliver': deliver(cmd); break;
    case 'receipt': receipt(cmd); break;
    case 'enquire_link': current.enquire_link({}); break;
    case 'unbind': current.unbind({}); break;
    default: log({ event: 'error', message: `unknown command ${cmd.cmd}` });
  }
});
// The test harness going away closes stdin: stop rather than linger.
rl.on('close', () => process.exit(0));
