// A certificate authority made for one demo run, and a server certificate it signs for the DNS
// name `localhost` (the enforcer's TLS library checks DNS names only, not IP addresses). Made
// with the openssl command; valid for one day; the keys live in the demo's private temp dir and
// go with it.

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface ThrowawayCa {
  /** The CA certificate: what the enforcer (VIGIL_CONSOLE_CA) and the demo's client trust. */
  caPem: string;
  /** The console's certificate and key (VIGIL_CONSOLE_TLS_CERT / _KEY). */
  certPem: string;
  keyPem: string;
}

/** The name in the certificate, and so the host in the console's URL. */
export const CERT_HOST = "localhost";

function openssl(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { env: { ...env }, timeout: 20_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(Object.assign(error, { stderr: String(stderr) }));
    });
  });
}

/** Null when openssl is not installed (the demo then speaks plain HTTP on loopback). */
export async function makeThrowawayCa(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<ThrowawayCa | null> {
  const p = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  try {
    await openssl(["req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "1", "-subj", "/CN=Vigil demo CA (throwaway)",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], env);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  await openssl(["req", ...ec, "-keyout", p("console.key"), "-out", p("console.csr"), "-subj", `/CN=${CERT_HOST}`], env);
  await writeFile(p("console.ext"), `subjectAltName=DNS:${CERT_HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`, { mode: 0o600 });
  await openssl(["x509", "-req", "-in", p("console.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("console.pem"),
    "-days", "1", "-extfile", p("console.ext")], env);
  return { caPem: p("ca.pem"), certPem: p("console.pem"), keyPem: p("console.key") };
}
