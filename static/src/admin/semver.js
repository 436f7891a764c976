// semver.js - versions of HTML component libraries in semver precedence
// (libraries.md §1): numeric major, minor, patch; a pre-release ranks
// below its release; pre-release identifiers compare left to right,
// numeric ones as numbers and below alphanumeric ones; build metadata is
// ignored; equal precedence falls back to the version string.  The
// server orders its lists the same way; the app sorts again because an
// expanded list (a library's `versions`) comes in no particular order.

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** {major, minor, patch, pre: [ids]} or null when `v` is not semver. */
export function parseSemver(v) {
  const m = typeof v === 'string' && v.length <= 50 ? SEMVER.exec(v) : null;
  if (!m) return null;
  return { major: BigInt(m[1]), minor: BigInt(m[2]), patch: BigInt(m[3]), pre: m[4] ? m[4].split('.') : [] };
}

function cmpBig(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpIdent(a, b) {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return cmpBig(BigInt(a), BigInt(b));
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Precedence of two version strings (-1, 0, 1); strings that are not
 * semver sort after every version, among themselves by text. */
export function compareSemver(a, b) {
  const pa = parseSemver(a);
  const pb = parseSemver(b);
  if (!pa || !pb) {
    if (pa) return -1;
    if (pb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  let c = cmpBig(pa.major, pb.major) || cmpBig(pa.minor, pb.minor) || cmpBig(pa.patch, pb.patch);
  if (c) return c;
  if (!pa.pre.length || !pb.pre.length) c = pb.pre.length - pa.pre.length;
  else {
    for (let i = 0; i < Math.min(pa.pre.length, pb.pre.length) && !c; i++) c = cmpIdent(pa.pre[i], pb.pre[i]);
    if (!c) c = pa.pre.length - pb.pre.length;
  }
  if (c) return Math.sign(c);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy of `items` in ascending precedence of `key(item)`. */
export function sortBySemver(items, key = (x) => x.version) {
  return [...items].sort((x, y) => compareSemver(key(x), key(y)));
}
