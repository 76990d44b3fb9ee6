// Amazon ECR: the registry password is a 12-hour token from ECR's GetAuthorizationToken, signed
// with whatever the AWS SDK credential chain finds (environment, profile, SSO, web identity, the
// ECS task role, IMDS). The SDK is loaded only when an ECR host is actually met.

import { RegistryError } from "./errors.js";
import type { Credential } from "./credentials.js";

export interface EcrHost {
  account: string;
  region: string;
  fips: boolean;
}

// 123456789012.dkr.ecr.us-east-1.amazonaws.com, ...dkr-fips..., ...amazonaws.com.cn (China).
const ECR_HOST = /^(\d{12})\.dkr(-fips)?\.ecr\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

export function parseEcrHost(registry: string): EcrHost | null {
  const m = ECR_HOST.exec(registry.toLowerCase());
  if (m === null) return null;
  return { account: m[1] ?? "", region: m[3] ?? "", fips: m[2] !== undefined };
}

export interface EcrOptions {
  /** ECR API endpoint override (tests; also honoured: AWS_ENDPOINT_URL_ECR). */
  endpoint?: string;
  /** Static credentials instead of the default chain (tests). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The username and password for an ECR registry; null when `registry` is not an ECR host. */
export async function ecrCredential(registry: string, options: EcrOptions = {}): Promise<Credential | null> {
  const host = parseEcrHost(registry);
  if (host === null) return null;
  const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
  const client = new ECRClient({
    region: host.region,
    ...(host.fips ? { useFipsEndpoint: true } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
  });
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    const token = out.authorizationData?.[0]?.authorizationToken;
    if (token === undefined) {
      throw new RegistryError("unauthorized", `ECR GetAuthorizationToken for ${registry} returned no token`);
    }
    return decodeEcrToken(token, registry);
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    const e = error as Error;
    throw new RegistryError(
      "unauthorized",
      `cannot get an ECR token for ${registry} (${e.name}: ${e.message}); the AWS SDK credential chain needs credentials allowed ecr:GetAuthorizationToken in ${host.region} (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, or a task role)`,
    );
  } finally {
    client.destroy();
  }
}

/** authorizationToken is base64("AWS:<password>"). */
export function decodeEcrToken(token: string, registry: string): Credential {
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new RegistryError("unauthorized", `ECR returned a malformed authorization token for ${registry}`);
  return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: "ECR GetAuthorizationToken" };
}
