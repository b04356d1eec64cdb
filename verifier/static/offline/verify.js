// Sanad QR-seal checker: verifies a certificate's seal in the browser with WebCrypto,
// against the trust list (JWKS) and status-list snapshot saved on this device, so it keeps
// working at a checkpoint with no network. Two seal formats, both ES256: the compact seal
// certificates carry now (digits holding a COSE_Sign1 over CBOR claims, issuer/seal.py) and
// the compact JWS of those issued before it (verifier/seal_jws.py).
//
// Two hosts load this module: the offline page (/verify/offline, element [data-seal-app])
// and the online QR page (/v/{id} or /V/{ID}, element [data-seal-check]), which adds the seal's
// verdict beside the registry's when the QR link carried a #fragment.
//
// Everything fails closed: anything unexpected in the seal, the keys or the status list
// gives "not valid" or "status unknown", never "valid".

import { CborError, CborTag, cborHead, decodeCbor, decodeDigits } from "./cbor.js";

export const JWKS_URL = "/api/v1/trust/jwks";
export const STATUS_URL = "/api/v1/status-list";
const TRUST_CACHE = "sanad-trust-v1";
const FETCHED_AT = "x-sanad-fetched-at";
const SW_URL = "/verify/offline/sw.js";
// The checker's own page, and the QR links: offline, a scanned /v/{id}#seal (printed in
// upper case, /V/{ID}#digits, to fit the QR code's alphanumeric mode) opens the checker.
const SW_SCOPES = ["/verify/offline", "/v/", "/V/"];
const FETCH_TIMEOUT_MS = 6000;
// A status list is a few kilobytes; refuse to inflate anything absurd.
const MAX_STATUS_BYTES = 16 * 1024 * 1024;
const IST_OFFSET_MS = 5.5 * 3600 * 1000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

// ---------------------------------------------------------------- verification core

export class SealError extends Error {}

const fail = (message) => {
  throw new SealError(message);
};

/** Strict base64url (no padding, no other characters) to bytes. */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    fail("not base64url");
  }
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  let binary;
  try {
    binary = atob(b64);
  } catch {
    fail("not base64url");
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function jsonObject(bytes, what) {
  let value;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    fail(`${what} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(`${what} is not a JSON object`);
  return value;
}

/** Split and decode a compact JWS; the signature is checked later, against a trusted key. */
export function parseJws(compact) {
  const parts = String(compact).split(".");
  // An empty signature is left to fail the checks below, so "alg: none" is named as such.
  if (parts.length !== 3 || parts[0] === "" || parts[1] === "") fail("not a compact JWS (three parts)");
  const [h, p, s] = parts;
  return {
    header: jsonObject(b64urlDecode(h), "header"),
    payloadBytes: b64urlDecode(p),
    signature: b64urlDecode(s),
    signingInput: new TextEncoder().encode(`${h}.${p}`),
  };
}

function findKey(jwks, kid, purpose) {
  if (typeof kid !== "string" || kid === "") fail("no key id (kid)");
  const keys = Array.isArray(jwks?.keys) ? jwks.keys : [];
  const matches = keys.filter((k) => k && k.kid === kid);
  if (matches.length === 0) fail(`key ${kid} is not in the trust list`);
  if (matches.length > 1) fail(`key ${kid} is listed more than once`);
  const key = matches[0];
  const meta = key.sanad || {};
  if (meta.purpose !== purpose) fail(`key ${kid} is not a ${purpose} key`);
  if (meta.status === "revoked") fail(`key ${kid} has been revoked`);
  if (key.kty !== "EC" || key.crv !== "P-256") fail(`key ${kid} is not a P-256 key`);
  if (key.alg !== undefined && key.alg !== "ES256") fail(`key ${kid} is not for ES256`);
  if (key.use !== undefined && key.use !== "sig") fail(`key ${kid} is not a signing key`);
  return key;
}

/** The India calendar date (what certificates print) of a timestamp or date string. */
function indiaDate(value) {
  if (typeof value === "string" && DATE_RE.test(value)) return value;
  const ms = typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) fail("unreadable date in the trust list");
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 10);
}

function isDate(value) {
  if (typeof value !== "string" || !DATE_RE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

/** The key must have been in service on `day`: a retired key still vouches for what it signed. */
function requireWindow(key, day) {
  const meta = key.sanad || {};
  if (meta.not_before == null || meta.not_after == null) fail(`key ${key.kid} has no validity period`);
  if (day < indiaDate(meta.not_before) || day > indiaDate(meta.not_after)) {
    fail(`key ${key.kid} was not in service on ${day}`);
  }
}

async function verifyEs256(key, jws) {
  if (!globalThis.crypto?.subtle) fail("this browser cannot check signatures here (open the page over HTTPS)");
  // Raw r||s: WebCrypto's ECDSA format. A DER signature (or any other length) is refused.
  if (jws.signature.length !== 64) fail("signature is not 64 bytes");
  let publicKey;
  try {
    publicKey = await crypto.subtle.importKey(
      "jwk",
      { kty: "EC", crv: "P-256", x: key.x, y: key.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
  } catch {
    fail(`key ${key.kid} is malformed`);
  }
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    publicKey,
    jws.signature,
    jws.signingInput,
  );
  if (!ok) fail("the signature does not match: the seal was altered or not made by Sanad");
}

function requireHeader(header, typ) {
  // Exactly ES256: "none", HS256 (a public key used as an HMAC secret) and the rest are refused.
  if (header.alg !== "ES256") fail(`algorithm ${JSON.stringify(header.alg)} is not accepted`);
  if (header.typ !== typ) fail(`not a ${typ} (typ ${JSON.stringify(header.typ)})`);
  if (header.crit !== undefined) fail("unsupported critical header");
}

function requireClaims(c) {
  const text = (k) => typeof c[k] === "string" && c[k].trim() !== "";
  if (c.v !== 1) fail("unknown seal version");
  for (const k of ["id", "t", "d", "n", "h"]) if (!text(k)) fail(`seal field ${k} is missing`);
  if (!isDate(c.i)) fail("seal has no valid issue date");
  if (c.e !== undefined && c.e !== null && !isDate(c.e)) fail("seal has an invalid expiry date");
  if (!Number.isSafeInteger(c.s) || c.s < 0) fail("seal has no valid status index");
}

// ---------------------------------------------------------------- the compact seal (COSE)

// Document type codes: the same table as TYPE_CODES in issuer/seal.py (a test compares them).
const TYPE_NAMES = {
  1: "income-certificate",
  2: "caste-certificate",
  3: "residence-certificate",
  4: "birth-certificate",
  5: "learner-licence",
  6: "trade-licence",
};
// CWT claim keys (issuer/seal.py): cti, type, name, issued, expires, status index, data hash, name shortened.
const CLAIM = { id: 7, type: -1, name: -2, issued: -3, expires: -4, index: -5, hash: -6, shortened: -7 };
const KNOWN_CLAIMS = new Set(Object.values(CLAIM));
const DAY_MS = 86400000;
const LAST_DAY = 2932896; // 9999-12-31
const SIGNATURE1 = new TextEncoder().encode("Signature1");

/** A compact seal is decimal digits; anything else is taken for a JWS. */
export const isCompactSeal = (seal) => /^[0-9]+$/.test(seal);

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function base32(bytes) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function cbor(bytes, what) {
  try {
    return decodeCbor(bytes);
  } catch (e) {
    if (e instanceof CborError) fail(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * Take a compact seal apart: 18([protected {1: -7, 4: kid}, {}, payload, signature]).
 * The signed bytes are the COSE Sig_structure ["Signature1", protected, h'', payload].
 */
export function parseCompactSeal(digits) {
  let bytes;
  try {
    bytes = decodeDigits(digits);
  } catch (e) {
    if (e instanceof CborError) fail(e.message);
    throw e;
  }
  const top = cbor(bytes, "the seal is damaged or incomplete");
  if (!(top instanceof CborTag) || top.tag !== 18 || !Array.isArray(top.value) || top.value.length !== 4) {
    fail("not a COSE_Sign1 seal");
  }
  const [protectedBytes, unprotected, payload, signature] = top.value;
  if (![protectedBytes, payload, signature].every((b) => b instanceof Uint8Array)) fail("not a COSE_Sign1 seal");
  if (!(unprotected instanceof Map) || unprotected.size !== 0) fail("the unprotected header must be empty");
  const header = cbor(protectedBytes, "the protected header");
  if (!(header instanceof Map)) fail("the protected header is not a map");
  // Exactly ES256 (-7); crit (2) and every other parameter are refused.
  if (header.get(1) !== -7) fail(`algorithm ${JSON.stringify(header.get(1) ?? null)} is not accepted`);
  for (const label of header.keys()) if (label !== 1 && label !== 4) fail(`unsupported header parameter ${label}`);
  const kid = header.get(4);
  if (!(kid instanceof Uint8Array) || kid.length === 0) fail("no key id (kid)");
  const signingInput = concat([
    [0x84],
    cborHead(3, SIGNATURE1.length),
    SIGNATURE1,
    cborHead(2, protectedBytes.length),
    protectedBytes,
    [0x40],
    cborHead(2, payload.length),
    payload,
  ]);
  return { kid: hex(kid), payload, signature, signingInput };
}

function day(value, what) {
  if (!Number.isSafeInteger(value) || value < 0 || value > LAST_DAY) fail(`seal has no valid ${what}`);
  return new Date(value * DAY_MS).toISOString().slice(0, 10);
}

/** A name in one Unicode block: the block's number, then one byte a letter (issuer/seal.py). */
function holderName(value) {
  if (typeof value === "string" && value.trim() !== "") return value;
  if (!(value instanceof Uint8Array) || value.length < 2 || value[0] === 0) fail("seal field n is missing");
  const base = value[0] << 7;
  return String.fromCodePoint(...Array.from(value.subarray(1), (b) => (b < 0x80 ? b : base | (b & 0x7f))));
}

/** The claims of a verified compact seal, named as in a JWS seal; the department is the key's. */
function compactClaims(payload, key) {
  const m = cbor(payload, "seal payload");
  if (!(m instanceof Map)) fail("seal payload is not a map");
  for (const k of m.keys()) if (!KNOWN_CLAIMS.has(k)) fail(`the seal has a claim (${k}) this page does not know`);
  const id = m.get(CLAIM.id);
  if (!(id instanceof Uint8Array) || id.length !== 16) fail("seal field id is missing");
  const type = m.get(CLAIM.type);
  const t = typeof type === "string" && type !== "" ? type : TYPE_NAMES[type];
  if (typeof t !== "string") fail(`unknown document type ${JSON.stringify(type ?? null)}`);
  const hash = m.get(CLAIM.hash);
  if (!(hash instanceof Uint8Array) || hash.length !== 8) fail("seal field h is missing");
  const index = m.get(CLAIM.index);
  if (!Number.isSafeInteger(index) || index < 0) fail("seal has no valid status index");
  if (m.has(CLAIM.shortened) && m.get(CLAIM.shortened) !== true) fail("seal has an invalid name mark");
  if (typeof key.sanad?.department !== "string") fail(`key ${key.kid} belongs to no department`);
  return {
    id: base32(id),
    t,
    d: key.sanad.department,
    n: holderName(m.get(CLAIM.name)),
    shortened: m.has(CLAIM.shortened),
    i: day(m.get(CLAIM.issued), "issue date"),
    e: m.has(CLAIM.expires) ? day(m.get(CLAIM.expires), "expiry date") : undefined,
    s: index,
    h: hex(hash),
  };
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_STATUS_BYTES) {
      await reader.cancel();
      fail("status list too large");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Verify a status-list snapshot against the trust list. Returns {bits, bytes, iat, exp, stale}
 * or throws SealError; callers treat a failure as "no snapshot" (status unknown).
 */
export async function readStatusList(compact, jwks, nowMs) {
  const jws = parseJws(compact);
  requireHeader(jws.header, "statuslist+jwt");
  const key = findKey(jwks, jws.header.kid, "status");
  await verifyEs256(key, jws);
  const p = jsonObject(jws.payloadBytes, "status list");
  if (!Number.isFinite(p.exp) || !Number.isFinite(p.iat)) fail("status list has no iat/exp");
  requireWindow(key, indiaDate(p.iat * 1000));
  const list = p.status_list || {};
  if (![1, 2, 4, 8].includes(list.bits)) fail("status list has an unsupported bit size");
  let bytes;
  try {
    bytes = await inflate(b64urlDecode(list.lst));
  } catch (e) {
    if (e instanceof SealError) throw e;
    fail("status list does not decompress");
  }
  return { bits: list.bits, bytes, iat: p.iat, exp: p.exp, stale: nowMs >= p.exp * 1000 };
}

/** The status at `index`; index 0 is the least-significant bits of byte 0. Null if out of range. */
export function statusAt(list, index) {
  const perByte = 8 / list.bits;
  const byte = Math.floor(index / perByte);
  if (byte >= list.bytes.length) return null;
  return (list.bytes[byte] >> ((index % perByte) * list.bits)) & ((1 << list.bits) - 1);
}

/** Today's date on this device, YYYY-MM-DD. */
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * Check one seal. `trust` is {jwks, statusList} where statusList is the compact JWS or null.
 * `expectedId` is the document number in the scanned link, if any.
 * Returns {verdict, reason, claims, kid, status: {state, iat, exp}}; verdict is one of
 * valid, invalid, revoked, superseded, suspended, expired, unknown.
 */
export async function verifySeal(seal, trust, { nowMs = Date.now(), today = localToday(), expectedId = null } = {}) {
  let claims;
  let kid;
  try {
    if (!trust?.jwks) fail("no trust list on this device yet: open this page once while online");
    let key;
    if (isCompactSeal(seal)) {
      const cose = parseCompactSeal(seal);
      kid = cose.kid;
      key = findKey(trust.jwks, kid, "seal");
      await verifyEs256(key, cose);
      claims = compactClaims(cose.payload, key);
    } else {
      const jws = parseJws(seal);
      requireHeader(jws.header, "sanad-seal+jws");
      kid = jws.header.kid;
      key = findKey(trust.jwks, kid, "seal");
      await verifyEs256(key, jws);
      claims = jsonObject(jws.payloadBytes, "seal payload");
      requireClaims(claims);
    }
    requireWindow(key, claims.i);
    // A department's key seals only that department's documents.
    if (key.sanad.department !== undefined && key.sanad.department !== claims.d) {
      fail(`key ${kid} belongs to another department`);
    }
    if (expectedId !== null && expectedId !== claims.id) {
      fail(`the seal is for document ${claims.id}, but the link is for ${expectedId}`);
    }
  } catch (e) {
    if (!(e instanceof SealError)) throw e;
    return { verdict: "invalid", reason: e.message, claims: null, kid, status: null };
  }

  // The signature is genuine; now what the status list says about it.
  let status = { state: "missing", iat: null, exp: null, value: null };
  if (trust.statusList) {
    try {
      const list = await readStatusList(trust.statusList, trust.jwks, nowMs);
      const value = statusAt(list, claims.s);
      status = { state: list.stale ? "stale" : "current", iat: list.iat, exp: list.exp, value };
    } catch (e) {
      if (!(e instanceof SealError)) throw e;
      status = { state: "unverifiable", iat: null, exp: null, value: null, reason: e.message };
    }
  }
  const result = { claims, kid, status, reason: null };
  // Revocation and supersession are final, so even a stale snapshot proves them.
  if (status.value === 1) return { ...result, verdict: "revoked" };
  if (status.value === 3) return { ...result, verdict: "superseded" };
  // A suspension may have been lifted since a stale snapshot; either way the document does
  // not count until a current list shows it reinstated, so it is never "valid" meanwhile.
  if (status.value === 2) return { ...result, verdict: "suspended" };
  if (claims.e && claims.e < today) return { ...result, verdict: "expired" };
  if (status.state !== "current") return { ...result, verdict: "unknown" };
  if (status.value !== 0) {
    // Out of range (a snapshot older than the document) or an unassigned value.
    const state = status.value === null ? "no-entry" : "unrecognised";
    return { ...result, verdict: "unknown", status: { ...status, state } };
  }
  return { ...result, verdict: "valid" };
}

/** verifySeal for the pages: an unexpected error is a verdict too (not valid), never a blank. */
async function judge(seal, trust, options) {
  try {
    return await verifySeal(seal, trust, options);
  } catch (e) {
    return { verdict: "invalid", reason: `the check could not run (${e})`, claims: null, kid: null, status: null };
  }
}

/** From a scanned QR text, a pasted URL or a bare seal: {seal, documentId}. */
export function extractSeal(text) {
  const raw = String(text || "").trim();
  const hash = raw.indexOf("#");
  const seal = (hash >= 0 ? raw.slice(hash + 1) : raw).replace(/\s+/g, "");
  let documentId = null;
  if (hash >= 0) {
    // /v/{id}, or /V/{ID} as QR codes print it: ids are lower-case base32.
    const path = raw.slice(0, hash).match(/\/v\/([^/?#\s]+)\/?(?:\?[^#]*)?$/i);
    if (path) {
      try {
        documentId = decodeURIComponent(path[1]).toLowerCase();
      } catch {
        documentId = path[1].toLowerCase();
      }
    }
  }
  return { seal, documentId };
}

// ---------------------------------------------------------------- trust list on this device

async function openCache() {
  try {
    return globalThis.caches ? await caches.open(TRUST_CACHE) : null;
  } catch {
    return null; // e.g. storage disabled: still works online
  }
}

async function fetchText(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(url, { cache: "no-store", signal: abort.signal, credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.text();
  } finally {
    clearTimeout(timer);
  }
}

async function saved(cache, url) {
  const hit = cache && (await cache.match(url));
  return hit ? { body: await hit.text(), fetchedAt: hit.headers.get(FETCHED_AT) } : null;
}

async function save(cache, url, body, fetchedAt) {
  if (!cache) return;
  try {
    await cache.put(url, new Response(body, { headers: { "content-type": "text/plain", [FETCHED_AT]: fetchedAt } }));
  } catch {
    // Quota or private mode: the copy in memory still serves this visit.
  }
}

async function verifiedIat(compact, jwks) {
  if (!jwks) return null;
  try {
    return (await readStatusList(compact, jwks, Date.now())).iat;
  } catch (e) {
    if (e instanceof SealError) return null;
    throw e;
  }
}

// What the pages fall back to if loading fails outright: every check says "not valid".
const NO_TRUST = { jwks: null, statusList: null, jwksFetchedAt: null, statusFetchedAt: null, offline: true };

/**
 * Fetch the JWKS and status list when online and save them; otherwise use the saved copies.
 * Returns {jwks, statusList, jwksFetchedAt, statusFetchedAt, offline}.
 */
export async function loadTrust() {
  const cache = await openCache();
  const [jwksNet, statusNet] = await Promise.allSettled([fetchText(JWKS_URL), fetchText(STATUS_URL)]);
  const now = new Date().toISOString();
  const trust = { jwks: null, statusList: null, jwksFetchedAt: null, statusFetchedAt: null, offline: false };

  if (jwksNet.status === "fulfilled") {
    try {
      const parsed = JSON.parse(jwksNet.value);
      if (Array.isArray(parsed?.keys)) {
        trust.jwks = parsed;
        trust.jwksFetchedAt = now;
        await save(cache, JWKS_URL, jwksNet.value, now);
      }
    } catch {
      // Garbage from the network never replaces a good saved copy.
    }
  }
  if (!trust.jwks) {
    trust.offline = true;
    const copy = await saved(cache, JWKS_URL);
    if (copy) {
      try {
        trust.jwks = JSON.parse(copy.body);
        trust.jwksFetchedAt = copy.fetchedAt;
      } catch {
        trust.jwks = null;
      }
    }
  }

  const copy = await saved(cache, STATUS_URL);
  const fresh = statusNet.status === "fulfilled" ? statusNet.value.trim() : null;
  const freshIat = fresh ? await verifiedIat(fresh, trust.jwks) : null;
  const copyIat = copy ? await verifiedIat(copy.body, trust.jwks) : null;
  // Keep the newest genuine snapshot: an older one replayed by the network must not roll
  // back a revocation, and a bad one must not displace a good one.
  if (freshIat !== null && (copyIat === null || freshIat >= copyIat)) {
    trust.statusList = fresh;
    trust.statusFetchedAt = now;
    await save(cache, STATUS_URL, fresh, now);
  } else if (copy) {
    trust.statusList = copy.body;
    trust.statusFetchedAt = copy.fetchedAt;
    if (!fresh) trust.offline = true;
  } else if (fresh) {
    trust.statusList = fresh; // not saved; checking it will say what is wrong with it
    trust.statusFetchedAt = now;
  }
  return trust;
}

// ---------------------------------------------------------------- words (en / pa / hi)

const WORDS = {
  en: {
    title: "Check a certificate's QR code",
    intro: "Scan the QR code on the certificate and paste the text here. Once opened online, this page also works without internet.",
    paste: "QR code text, link or seal",
    check: "Check",
    trust: "Trust list",
    document: "Document",
    number: "Number",
    holder: "Name of holder",
    department: "Department",
    issued: "Issued on",
    until: "Valid until",
    noEnd: "No end date",
    fingerprint: "Data fingerprint",
    shortened: "shortened in the QR code: compare the beginning",
    key: "Sealed with key",
    "v.valid": "Genuine and in force",
    "v.invalid": "Seal not genuine — do not accept",
    "v.revoked": "Cancelled — do not accept",
    "v.superseded": "Replaced by a newer certificate — do not accept this one",
    "v.suspended": "Suspended — do not accept until reinstated",
    "v.expired": "Expired — no longer valid",
    "v.unknown": "Genuine seal, status unknown",
    "x.valid": "The seal is genuine and the current status list shows the document in force.",
    "x.invalid": "This seal is not genuine or cannot be checked. Do not accept the document on the strength of this QR code.",
    "x.revoked": "The issuing department has revoked this document. It must not be accepted.",
    "x.superseded": "A newer version of this document has been issued; only the latest one counts.",
    "x.suspended": "The issuing office has suspended this certificate while it looks into it. It does not count until the office reinstates it.",
    "x.expired": "This document was genuine, but its validity period has ended.",
    "x.unknown": "The seal is genuine, but whether the document was revoked cannot be confirmed.",
    check_paper: "Compare these details with the paper in front of you.",
    seal_on_page: "Seal in the QR code",
    save_offline: "Save the offline checker on this phone",
  },
  pa: {
    title: "ਸਰਟੀਫਿਕੇਟ ਦੇ QR ਕੋਡ ਦੀ ਜਾਂਚ ਕਰੋ",
    intro: "ਸਰਟੀਫਿਕੇਟ ਦਾ QR ਕੋਡ ਸਕੈਨ ਕਰਕੇ ਉਸ ਦਾ ਟੈਕਸਟ ਇੱਥੇ ਪਾਓ। ਇੱਕ ਵਾਰ ਇੰਟਰਨੈੱਟ ਨਾਲ ਖੋਲ੍ਹਣ ਤੋਂ ਬਾਅਦ, ਇਹ ਪੰਨਾ ਇੰਟਰਨੈੱਟ ਤੋਂ ਬਿਨਾਂ ਵੀ ਚੱਲਦਾ ਹੈ।",
    paste: "QR ਕੋਡ ਦਾ ਟੈਕਸਟ, ਲਿੰਕ ਜਾਂ ਮੋਹਰ",
    check: "ਜਾਂਚ ਕਰੋ",
    trust: "ਭਰੋਸੇਯੋਗ ਕੁੰਜੀਆਂ ਦੀ ਸੂਚੀ",
    document: "ਦਸਤਾਵੇਜ਼",
    number: "ਨੰਬਰ",
    holder: "ਧਾਰਕ ਦਾ ਨਾਮ",
    department: "ਵਿਭਾਗ",
    issued: "ਜਾਰੀ ਮਿਤੀ",
    until: "ਇਸ ਮਿਤੀ ਤੱਕ ਵੈਧ",
    noEnd: "ਕੋਈ ਅੰਤ ਮਿਤੀ ਨਹੀਂ",
    fingerprint: "ਡਾਟਾ ਫਿੰਗਰਪ੍ਰਿੰਟ",
    shortened: "QR ਕੋਡ ਵਿੱਚ ਛੋਟਾ ਕੀਤਾ: ਸ਼ੁਰੂਆਤ ਮਿਲਾਓ",
    key: "ਮੋਹਰ ਦੀ ਕੁੰਜੀ",
    "v.valid": "ਅਸਲੀ ਅਤੇ ਲਾਗੂ",
    "v.invalid": "ਮੋਹਰ ਅਸਲੀ ਨਹੀਂ — ਸਵੀਕਾਰ ਨਾ ਕਰੋ",
    "v.revoked": "ਰੱਦ — ਸਵੀਕਾਰ ਨਾ ਕਰੋ",
    "v.superseded": "ਨਵੇਂ ਸਰਟੀਫਿਕੇਟ ਨਾਲ ਬਦਲਿਆ — ਇਹ ਸਵੀਕਾਰ ਨਾ ਕਰੋ",
    "v.suspended": "ਮੁਅੱਤਲ — ਬਹਾਲ ਹੋਣ ਤੱਕ ਸਵੀਕਾਰ ਨਾ ਕਰੋ",
    "v.expired": "ਮਿਆਦ ਪੁੱਗ ਗਈ — ਹੁਣ ਵੈਧ ਨਹੀਂ",
    "v.unknown": "ਮੋਹਰ ਅਸਲੀ, ਸਥਿਤੀ ਅਣਜਾਣ",
    "x.valid": "ਮੋਹਰ ਅਸਲੀ ਹੈ ਅਤੇ ਮੌਜੂਦਾ ਸਥਿਤੀ ਸੂਚੀ ਅਨੁਸਾਰ ਦਸਤਾਵੇਜ਼ ਲਾਗੂ ਹੈ।",
    "x.invalid": "ਇਹ ਮੋਹਰ ਅਸਲੀ ਨਹੀਂ ਹੈ ਜਾਂ ਇਸ ਦੀ ਜਾਂਚ ਨਹੀਂ ਹੋ ਸਕਦੀ। ਇਸ QR ਕੋਡ ਦੇ ਆਧਾਰ 'ਤੇ ਦਸਤਾਵੇਜ਼ ਸਵੀਕਾਰ ਨਾ ਕਰੋ।",
    "x.revoked": "ਜਾਰੀ ਕਰਨ ਵਾਲੇ ਵਿਭਾਗ ਨੇ ਇਹ ਦਸਤਾਵੇਜ਼ ਰੱਦ ਕਰ ਦਿੱਤਾ ਹੈ। ਇਸ ਨੂੰ ਸਵੀਕਾਰ ਨਹੀਂ ਕੀਤਾ ਜਾਣਾ ਚਾਹੀਦਾ।",
    "x.superseded": "ਇਸ ਦਸਤਾਵੇਜ਼ ਦਾ ਨਵਾਂ ਰੂਪ ਜਾਰੀ ਹੋ ਚੁੱਕਾ ਹੈ; ਸਿਰਫ਼ ਸਭ ਤੋਂ ਨਵਾਂ ਹੀ ਮੰਨਿਆ ਜਾਵੇਗਾ।",
    "x.suspended": "ਜਾਰੀ ਕਰਨ ਵਾਲੇ ਦਫ਼ਤਰ ਨੇ ਜਾਂਚ ਦੌਰਾਨ ਇਹ ਸਰਟੀਫਿਕੇਟ ਮੁਅੱਤਲ ਕੀਤਾ ਹੈ। ਦਫ਼ਤਰ ਵੱਲੋਂ ਬਹਾਲ ਕੀਤੇ ਜਾਣ ਤੱਕ ਇਹ ਮੰਨਿਆ ਨਹੀਂ ਜਾਂਦਾ।",
    "x.expired": "ਇਹ ਦਸਤਾਵੇਜ਼ ਅਸਲੀ ਸੀ, ਪਰ ਇਸ ਦੀ ਵੈਧਤਾ ਦੀ ਮਿਆਦ ਖਤਮ ਹੋ ਚੁੱਕੀ ਹੈ।",
    "x.unknown": "ਮੋਹਰ ਅਸਲੀ ਹੈ, ਪਰ ਇਹ ਪੁਸ਼ਟੀ ਨਹੀਂ ਹੋ ਸਕਦੀ ਕਿ ਦਸਤਾਵੇਜ਼ ਰੱਦ ਹੋਇਆ ਹੈ ਜਾਂ ਨਹੀਂ।",
    check_paper: "ਇਹ ਵੇਰਵੇ ਆਪਣੇ ਸਾਹਮਣੇ ਵਾਲੇ ਕਾਗਜ਼ ਨਾਲ ਮਿਲਾਓ।",
    seal_on_page: "QR ਕੋਡ ਵਿਚਲੀ ਮੋਹਰ",
    save_offline: "ਇਸ ਫ਼ੋਨ 'ਤੇ ਆਫ਼ਲਾਈਨ ਜਾਂਚ ਸੰਭਾਲੋ",
  },
  hi: {
    title: "प्रमाणपत्र के QR कोड की जाँच करें",
    intro: "प्रमाणपत्र का QR कोड स्कैन करके उसका टेक्स्ट यहाँ डालें। एक बार इंटरनेट से खोलने के बाद यह पेज बिना इंटरनेट के भी चलता है।",
    paste: "QR कोड का टेक्स्ट, लिंक या मुहर",
    check: "जाँच करें",
    trust: "विश्वसनीय कुंजियों की सूची",
    document: "दस्तावेज़",
    number: "संख्या",
    holder: "धारक का नाम",
    department: "विभाग",
    issued: "जारी करने की तिथि",
    until: "इस तिथि तक मान्य",
    noEnd: "कोई अंतिम तिथि नहीं",
    fingerprint: "डेटा फ़िंगरप्रिंट",
    shortened: "QR कोड में छोटा किया गया: शुरुआत मिलाएँ",
    key: "मुहर की कुंजी",
    "v.valid": "असली और लागू",
    "v.invalid": "मुहर असली नहीं — स्वीकार न करें",
    "v.revoked": "रद्द — स्वीकार न करें",
    "v.superseded": "नए प्रमाण पत्र से बदला गया — इसे स्वीकार न करें",
    "v.suspended": "निलंबित — बहाल होने तक स्वीकार न करें",
    "v.expired": "अवधि समाप्त — अब मान्य नहीं",
    "v.unknown": "मुहर असली, स्थिति अज्ञात",
    "x.valid": "मुहर असली है और वर्तमान स्थिति सूची के अनुसार दस्तावेज़ लागू है।",
    "x.invalid": "यह मुहर असली नहीं है या इसकी जाँच नहीं हो सकती। इस QR कोड के आधार पर दस्तावेज़ स्वीकार न करें।",
    "x.revoked": "जारी करने वाले विभाग ने यह दस्तावेज़ रद्द कर दिया है। इसे स्वीकार नहीं किया जाना चाहिए।",
    "x.superseded": "इस दस्तावेज़ का नया संस्करण जारी हो चुका है; केवल सबसे नया ही मान्य है।",
    "x.suspended": "जारी करने वाले कार्यालय ने जाँच के दौरान यह प्रमाण पत्र निलंबित किया है। कार्यालय द्वारा बहाल किए जाने तक यह मान्य नहीं है।",
    "x.expired": "यह दस्तावेज़ असली था, लेकिन इसकी वैधता अवधि समाप्त हो चुकी है।",
    "x.unknown": "मुहर असली है, लेकिन यह पुष्टि नहीं हो सकती कि दस्तावेज़ रद्द हुआ है या नहीं।",
    check_paper: "इन विवरणों को अपने सामने के कागज़ से मिलाएँ।",
    seal_on_page: "QR कोड में मुहर",
    save_offline: "इस फ़ोन पर ऑफ़लाइन जाँच सहेजें",
  },
};
const LANGS = Object.keys(WORDS);
const LANG_KEY = "sanad-verify-lang";

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  let stored = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch {
    // storage disabled
  }
  for (const c of [asked, stored, ...(navigator.languages || [])]) {
    const code = String(c || "").slice(0, 2).toLowerCase();
    if (LANGS.includes(code)) return code;
  }
  return "en";
}

let lang = "en";
// Technical details (reasons, timestamps) stay in English: they are for whoever investigates.
const t = (key) => WORDS[lang][key] ?? WORDS.en[key] ?? key;

// ---------------------------------------------------------------- rendering

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  // Text only (holder names come from the seal): never innerHTML.
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showDate(day) {
  if (!day) return "";
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(`${lang}-IN`, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

function showMoment(value) {
  if (value === null || value === undefined) return "unknown";
  const ms = typeof value === "number" ? value * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) return "unknown";
  return new Intl.DateTimeFormat("en-IN", { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
}

function statusNote(result) {
  const s = result.status;
  if (!s) return null;
  switch (s.state) {
    case "current":
      return `Status list issued ${showMoment(s.iat)}, current until ${showMoment(s.exp)}.`;
    case "stale":
      return `Revocation status unknown (status list stale since ${showMoment(s.exp)}). Go online to refresh it.`;
    case "missing":
      return "Revocation status unknown (no status list on this device). Go online to fetch it.";
    case "unverifiable":
      return `Revocation status unknown (the saved status list failed its check: ${s.reason}).`;
    case "no-entry":
      return "Revocation status unknown (this document is not in the saved status list yet). Go online to refresh it.";
    case "unrecognised":
      return `Revocation status unknown (the status list gives an unrecognised value, ${s.value}).`;
    default:
      return null;
  }
}

const ICONS = { valid: "✓", invalid: "✗", revoked: "⊘", superseded: "↻", suspended: "⏸", expired: "⌛", unknown: "?" };

/** The verdict box: colour, icon and words all differ per verdict. */
function verdictBox(result, headingTag) {
  const box = el("div", { class: `sv-verdict sv-${result.verdict}`, "data-verdict": result.verdict });
  box.append(
    el(headingTag, {}, el("span", { class: "sv-icon", "aria-hidden": "true" }, ICONS[result.verdict]), " ", t(`v.${result.verdict}`)),
  );
  if (result.verdict === "unknown") {
    if (lang !== "en") box.append(el("p", { class: "sv-explain" }, t("x.unknown")));
    // The exact state, with the date the list went stale, in plain English in every language.
    box.append(el("p", { class: "sv-explain" }, `Valid signature, ${statusNote(result).replace(/^Revocation/, "revocation")}`));
  } else {
    box.append(el("p", { class: "sv-explain" }, t(`x.${result.verdict}`)));
    const s = result.status;
    if (s && s.state === "stale" && ["revoked", "superseded", "suspended"].includes(result.verdict)) {
      // Revocation is final, so an old snapshot still proves it (and a suspension in one is
      // reason enough to wait); say which snapshot.
      box.append(el("p", { class: "sv-note" }, `From the status list issued ${showMoment(s.iat)} (stale since ${showMoment(s.exp)}).`));
    } else if (s && result.verdict !== "invalid" && s.state !== "current") {
      box.append(el("p", { class: "sv-note" }, statusNote(result)));
    }
  }
  if (result.reason) box.append(el("p", { class: "sv-reason" }, `Reason: ${result.reason}`));
  return box;
}

function factsList(result) {
  const c = result.claims;
  const dl = el("dl", { class: "sv-facts" });
  const row = (label, value, attrs = {}) => dl.append(el("dt", {}, t(label)), el("dd", attrs, value));
  // A long name is cut short in the seal (to keep the QR code small); say so beside it.
  const holder = c.shortened ? [`${c.n}…`, " ", el("small", { class: "sv-note" }, `(${t("shortened")})`)] : [c.n];
  dl.append(el("dt", {}, t("holder")), el("dd", { "data-field": "holder", class: "sv-holder" }, ...holder));
  const type = c.t.replace(/-/g, " ");
  row("document", type.charAt(0).toUpperCase() + type.slice(1), { "data-field": "type" });
  row("number", c.id, { "data-field": "id", class: "sv-mono" });
  row("department", c.d, { "data-field": "department" });
  row("issued", showDate(c.i), { "data-field": "issued" });
  row("until", c.e ? showDate(c.e) : t("noEnd"), { "data-field": "expires" });
  row("fingerprint", c.h, { "data-field": "fingerprint", class: "sv-mono" });
  row("key", result.kid, { class: "sv-mono" });
  const status = statusNote(result);
  if (status && result.status.state === "current") dl.append(el("dt", {}, "Status list"), el("dd", {}, status));
  return dl;
}

function renderResult(target, result, headingTag = "h2") {
  target.replaceChildren(verdictBox(result, headingTag));
  if (result.claims) {
    target.append(factsList(result), el("p", { class: "sv-hint" }, t("check_paper")));
  }
}

function trustLine(trust) {
  if (!trust.jwks) return "No trust list on this device yet. Open this page once while online.";
  const parts = [`Trust list fetched at ${showMoment(trust.jwksFetchedAt)}`];
  parts.push(
    trust.statusList ? `status list fetched at ${showMoment(trust.statusFetchedAt)}` : "no status list saved",
  );
  return `${parts.join("; ")}.${trust.offline ? " Offline: using the copies saved on this device." : ""}`;
}

// ---------------------------------------------------------------- the offline page

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  // All at once: the sooner every scope is covered, the sooner a scanned link works offline.
  // A failure only means the page keeps working online; the trust list cache is separate.
  await Promise.allSettled(SW_SCOPES.map((scope) => navigator.serviceWorker.register(SW_URL, { scope })));
}

async function startOfflinePage(app) {
  lang = pickLanguage();
  const form = app.querySelector("#sv-form");
  const input = app.querySelector("#sv-input");
  const out = app.querySelector("#sv-result");
  const trustOut = app.querySelector("#sv-trust");
  // Start fetching at once; a check submitted meanwhile waits for it.
  const trustReady = loadTrust().catch(() => NO_TRUST);
  let lastResult = null;

  const applyWords = () => {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
    for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    if (lastResult) renderResult(out, lastResult);
  };

  // Offline, the service worker answers a scanned /v/{id} link with this page.
  const linkId = qrLinkId();
  const check = async (text, expectedId) => {
    const { seal, documentId } = extractSeal(text);
    if (!seal) return;
    out.setAttribute("aria-busy", "true");
    lastResult = await judge(seal, await trustReady, { expectedId: expectedId ?? documentId });
    renderResult(out, lastResult);
    out.removeAttribute("aria-busy");
    app.dataset.state = "checked";
  };

  for (const b of document.querySelectorAll("[data-lang]")) {
    b.addEventListener("click", () => {
      lang = b.dataset.lang;
      try {
        localStorage.setItem(LANG_KEY, lang);
      } catch {
        // not remembered; fine
      }
      applyWords();
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check(input.value);
  });
  window.addEventListener("hashchange", () => check(location.hash, linkId));
  applyWords();

  registerWorker();
  trustOut.textContent = trustLine(await trustReady);
  app.dataset.state = "ready";
  if (location.hash.length > 1) await check(location.hash, linkId);
}

// ---------------------------------------------------------------- the online QR page (/v/{id})

/** The document id in this page's own /v/{id} address, if that is where we are. */
function qrLinkId() {
  const match = location.pathname.match(/^\/v\/([^/]+)$/i);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]).toLowerCase();
  } catch {
    return match[1].toLowerCase();
  }
}

async function startQrPage(box) {
  if (location.hash.length <= 1) return;
  lang = pickLanguage();
  const { seal } = extractSeal(location.hash);
  const trust = await loadTrust().catch(() => NO_TRUST);
  const result = await judge(seal, trust, { expectedId: qrLinkId() });
  const body = el("div", { role: "status" });
  renderResult(body, result, "h3");
  box.replaceChildren(
    el("h2", {}, t("seal_on_page")),
    body,
    el("p", { class: "sv-hint" }, trustLine(trust), " ", el("a", { href: "/verify/offline" }, t("save_offline"))),
  );
  box.hidden = false;
  box.dataset.state = "checked";
}

function start() {
  const app = document.querySelector("[data-seal-app]");
  if (app) return startOfflinePage(app);
  const box = document.querySelector("[data-seal-check]");
  if (box) return startQrPage(box);
  return null;
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
