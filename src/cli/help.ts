// The help text. Kept next to the commands it describes; tests check every command is listed.

import { VIGIL_VERSION } from "../version.js";

export const HELP = `vigil ${VIGIL_VERSION} — runtime protection for containers

Usage:
  vigil demo [--no-wait]                      run the quick start: a script under the enforcer, its
                                              events in a local console (kept up until Ctrl-C in a
                                              terminal; --no-wait ends at once)
  vigil exec [OPTIONS] -- COMMAND [ARGS...]   run COMMAND under the enforcer on this machine
      --policy FILE        policy (YAML/JSON, or already compiled); without it every exec is allowed and reported
      --audit              block nothing; report what would have been blocked as "alert"
      --events SINK        stderr (default), fd:N, or a file to append events to
      --mechanism M        auto (default), landlock or seccomp (see docs/enforcer-cli.md)
      --fail-open          if tracing is refused, run COMMAND unprotected instead of refusing
  vigil policy check FILE...                  every error and warning of each policy (exit 2 on errors)
  vigil policy compile FILE [-o OUT]          compile a policy to the enforcer's format (- = stdin/stdout)
  vigil policy explain FILE --exec PATH [-- ARGS...] | --write PATH | --connect ADDR:PORT [--exe PATH] [--json]
                                              which rule decides and why (exec: as the enforcer would, on this machine)
  vigil policy default [-o OUT]               the default policy, every rule explained
  vigil policy learn EVENTS... [--from POLICY] [-o OUT]
                                              the tightest exec allow list that allows every recorded exec
  vigil policy test POLICY EVENTS...          replay recorded execs; list what the policy would block (exit 1 if any)
  vigil protect ecs INPUT [-o OUT]            protect an ECS task definition or CloudFormation template (- = stdin/stdout)
      --mode M             copy (default: init container fills a task volume) or volumes-from
      --sidecar-image REF  the vigil sidecar image (kept from the input when it is already protected)
      --policy FILE        policy passed inline in VIGIL_POLICY
      --policy-from ARN    compiled policy kept in SSM Parameter Store or Secrets Manager (VIGIL_POLICY via secrets)
      --console URL        enroll with the Vigil console (VIGIL_CONSOLE); with --token-secret ARN (the enrollment
                           token in SSM/Secrets Manager, VIGIL_TOKEN via secrets) or --token-env (you give VIGIL_TOKEN);
                           --console-insecure allows http://; --no-console removes an earlier connection
      --container NAME     protect this container (repeatable); default: essential containers except known agents
      --image-config IMAGE=FILE  image config (JSON, e.g. docker inspect) when the task omits entryPoint/command
      --offline            never read image configs from registries
      --registry-ca FILE, --insecure-registry   TLS trust for a private registry, or plain HTTP
      --check              exit 1 if a selected container is not protected
      --diff               show the changes instead of writing them
  vigil protect ecs --from FAMILY[:REV] [--register] [--region R] [--endpoint-url URL] [options above]
                                              read the task definition from ECS; --register registers the protected revision
  vigil unprotect ecs INPUT [-o OUT] [--diff]  undo vigil protect exactly
  vigil protect image SOURCE DEST             the image plus one layer with the enforcer, its entry point wrapped; prints the digest
      --policy FILE, --ca FILE   build a policy (/vigil/policy) or CA bundle (/vigil/ca.pem) in
      --strict             refuse an index with platforms that have no enforcer (default: kept unprotected, warned)
                           SOURCE/DEST: REGISTRY/REPO:TAG, oci:DIR[:NAME], docker-archive:FILE[:NAME:TAG]
  vigil unprotect image SOURCE DEST           give back the original image (same digests)
  vigil protect dockerfile [FILE] [-o OUT]    the final stage copies /vigil from --sidecar-image REF and starts the enforcer first
                                              (vigil protect dockerfile --help for its options)
  vigil sidecar build (-o FILE | --push REF)  the sidecar image (linux/amd64 + arm64, FROM scratch), no Docker needed
      --ca FILE            the console's CA bundle (PEM) at /vigil/ca.pem, for vigil protect ecs --console
                                              (vigil sidecar build --help for its options)
  vigil local run TASKDEF                     run an ECS task definition on the local Docker Engine, like Fargate
      --env-file [REF=]FILE  environment file: for the environmentFiles entry REF (e.g. an S3 ARN), or every container
      --secret NAME[=VALUE]  a secret's value (default: from this environment)
      --volume NAME=DIR      bind this directory for the task volume NAME (EFS and the like)
      --network none|host    none (default): the task's own localhost; host: this machine's
      --pull missing|never   pull images the engine lacks (default) or never
      --timeout SECONDS      stop the task after SECONDS (exit code 124)
  vigil console [--db DB] [--listen ADDR]     the console: fleet, events, policies (docs/console-protocol.md)
      --db DB              sqlite:FILE (default sqlite:vigil-console.db, created on first start) or postgres://…
      --listen ADDR        HOST:PORT (default 127.0.0.1:8080); HTTPS with VIGIL_CONSOLE_TLS_CERT and _KEY
      --retention-days N   delete events older than N days (default 30; 0 keeps them)
  vigil help                                  this text
  vigil --version                             the version

Exit codes: 0 ok, 1 findings, 2 user error, 70 internal error (a bug in vigil).
vigil exec ends with the command's own status (128+N if it died of signal N; 126 if the policy blocked it).
vigil local run ends with the essential container's exit code (124 on --timeout, 125 if the task could not run).
`;
