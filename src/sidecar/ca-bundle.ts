// Checks a CA bundle before it goes into the sidecar image as /vigil/ca.pem, so that a bundle the
// enforcer would refuse at start (enforcer/src/trust.c: PEM, at most 1 MiB and 256 certificates,
// RSA or EC P-256/384/521 keys, at least one CA) is refused here, where it can still be fixed.
// Pure: text in, findings out.

import { X509Certificate } from "node:crypto";

/** The enforcer's limits (enforcer/src/trust.c TRUST_MAX_FILE, TRUST_MAX_CERTS). */
export const CA_BUNDLE_MAX_BYTES = 1024 * 1024;
export const CA_BUNDLE_MAX_CERTS = 256;

export interface CaBundleCheck {
  /** Certificates the enforcer will trust (CA certificates). */
  anchors: number;
  errors: string[];
  warnings: string[];
}

const CERT_LABELS = new Set(["CERTIFICATE", "X509 CERTIFICATE"]);
/** The curves BearSSL's X.509 decoder reads (node's names). */
const EC_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);

export function checkCaBundle(data: Uint8Array): CaBundleCheck {
  const out: CaBundleCheck = { anchors: 0, errors: [], warnings: [] };
  if (data.length > CA_BUNDLE_MAX_BYTES) {
    out.errors.push(`is ${data.length} bytes; the enforcer reads at most ${CA_BUNDLE_MAX_BYTES} (1 MiB)`);
    return out;
  }
  const text = Buffer.from(data).toString("latin1");
  const lineOf = (offset: number): number => text.slice(0, offset).split("\n").length;
  const block = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)(?:-----END ([A-Z0-9 ]+)-----|$)/g;
  let certificates = 0;
  for (let m = block.exec(text); m !== null; m = block.exec(text)) {
    const [, label = "", body = "", end] = m;
    const line = lineOf(m.index);
    if (end === undefined) {
      out.errors.push(`line ${line}: BEGIN ${label} has no END line`);
      break;
    }
    if (end !== label) {
      out.errors.push(`line ${line}: BEGIN ${label} ends with END ${end}`);
      continue;
    }
    if (/PRIVATE KEY/.test(label)) {
      out.errors.push(`line ${line}: holds a ${label}; a CA bundle holds certificates only (anyone who can pull the sidecar image can read it)`);
      continue;
    }
    if (!CERT_LABELS.has(label)) {
      out.warnings.push(`line ${line}: a ${label} block; the enforcer reads CERTIFICATE blocks only and ignores it`);
      continue;
    }
    certificates++;
    const base64 = body.replace(/\s+/g, "");
    let cert: X509Certificate;
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error("not base64");
      cert = new X509Certificate(Buffer.from(base64, "base64"));
    } catch {
      out.errors.push(`line ${line}: this CERTIFICATE block is not a valid X.509 certificate`);
      continue;
    }
    const name = `line ${line} (${cert.subject.replace(/\n/g, ", ")})`;
    const key = cert.publicKey;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== "rsa" && !(key.asymmetricKeyType === "ec" && curve !== undefined && EC_CURVES.has(curve))) {
      out.errors.push(`${name}: a ${key.asymmetricKeyType ?? "unknown"}${curve === undefined ? "" : ` ${curve}`} key, which the enforcer's TLS library (BearSSL) cannot use; use an RSA or EC P-256/P-384/P-521 CA`);
      continue;
    }
    if (!cert.ca) {
      out.warnings.push(`${name}: not a CA certificate (no basicConstraints CA:TRUE); the enforcer ignores it`);
      continue;
    }
    if (Date.parse(cert.validTo) < Date.now()) out.warnings.push(`${name}: expired on ${cert.validTo}`);
    out.anchors++;
  }
  if (certificates > CA_BUNDLE_MAX_CERTS) out.errors.push(`holds ${certificates} certificates; the enforcer reads at most ${CA_BUNDLE_MAX_CERTS}`);
  if (certificates === 0 && out.errors.length === 0) out.errors.push("holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  else if (out.anchors === 0 && out.errors.length === 0) out.errors.push("holds no CA certificate: the enforcer would trust nothing");
  return out;
}
