// Where the Docker Engine API answers: DOCKER_HOST (unix:///path or tcp://host:port, plain HTTP)
// or the default socket /var/run/docker.sock.

export type DockerEndpoint = { kind: "unix"; socketPath: string } | { kind: "tcp"; host: string; port: number };

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

export class DockerHostError extends Error {
  override readonly name = "DockerHostError";
}

/** Parses DOCKER_HOST; undefined or "" means the default unix socket. */
export function dockerEndpoint(dockerHost: string | undefined): DockerEndpoint {
  if (dockerHost === undefined || dockerHost === "") return { kind: "unix", socketPath: DEFAULT_DOCKER_SOCKET };
  if (dockerHost.startsWith("unix://")) {
    const socketPath = dockerHost.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new DockerHostError(`DOCKER_HOST=${dockerHost}: the socket path must be absolute`);
    return { kind: "unix", socketPath };
  }
  if (dockerHost.startsWith("tcp://") || dockerHost.startsWith("http://")) {
    const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
    return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port === "" ? 2375 : Number(url.port) };
  }
  throw new DockerHostError(
    `DOCKER_HOST=${dockerHost}: only unix:///path and tcp://host:port (without TLS) are supported`,
  );
}
