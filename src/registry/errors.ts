// Errors from talking to a registry. `kind` is a closed set tests and callers can switch on; the
// message says what failed, where, and what to do about it.

export type RegistryErrorKind =
  | "bad-reference"
  | "unauthorized"
  | "denied"
  | "not-found"
  | "digest-mismatch"
  | "unsupported-media-type"
  | "no-matching-platform"
  | "bad-response"
  | "http"
  | "network"
  | "tls"
  | "config";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
