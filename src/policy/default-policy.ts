// The default policy (`vigil policy default`): safe to enforce on the common images — nginx, a
// Node.js app, a Python app, a JVM app, on Debian/Ubuntu or Alpine — and blocking the classic moves
// that follow a remote code execution. Every rule says why it is there; the text is the document.

export const DEFAULT_POLICY = `# Vigil default policy (vigil policy default).
#
# Safe to enforce on common images — nginx, a Node.js app, a Python app, a JVM app, Debian/Ubuntu
# or Alpine based — and blocks the classic moves that follow a remote code execution. It has no
# exec allow list, so an application nobody fully knows still starts: for a tight policy, run the
# application in audit mode and let \`vigil policy learn\` write its allow list (see README.md).
#
# Every section is enforced (docs/compiled-policy.md says how).
apiVersion: vigil/v1
kind: Policy
metadata: { name: vigil-default }
spec:
  mode: enforce
  exec:
    deny:
      # Dropping and running a new program. A payload fetched after an exploit is written where
      # any process may write and run from there. Web servers and language runtimes never run
      # programs from these directories to start or to serve. (The enforcer also denies hard
      # links to the files these globs name when it starts.)
      - /tmp/**
      - /var/tmp/**
      - /dev/shm/**
      # Fileless execution: a program run from an in-memory file (memfd_create + execveat, or
      # /proc/self/fd/N) has no path of its own; the kernel names it /memfd:NAME (deleted).
      - /memfd:*
      # Reverse shells and relays: netcat in its packaged builds (nc.openbsd, nc.traditional),
      # ncat and socat connect a shell to an attacker's listener. Named by their real files on
      # purpose: on Alpine, /usr/bin/nc and /usr/bin/wget are links to /bin/busybox, and denying
      # a link denies the file it links to — which would deny busybox, the image's shell.
      - /usr/bin/nc.*
      - /bin/nc.*
      - /usr/bin/ncat
      - /usr/bin/socat
      # Downloading the next stage. curl is a real program on Debian and Alpine alike (wget is
      # left out for the busybox reason above). Health checks that call curl are not affected:
      # ECS and Docker run them beside the application, not as its descendants.
      - /usr/bin/curl
      # Reconnaissance and sniffing from inside the task: never part of serving.
      - /usr/bin/nmap
      - /usr/bin/masscan
      - /usr/bin/tcpdump
      - /usr/sbin/tcpdump
    # Executables that are not part of the image: a program or script created, changed or
    # chmod'ed after the container started (its inode's ctime) — a dropped payload wherever it
    # lands, not only in the directories above. The applications run what their image holds.
    drift: block
    # Execution from memfd, /proc/self/fd/N or deleted files, whatever the program's name.
    fileless: block
    # ld-linux*.so run as a program: a way to run a file without the exec permission bit, or
    # past a deny rule. Applications run their programs, never the loader itself.
    loader: block
    # A shell or interpreter started with its standard input or output on a network socket, or a
    # shell reading its commands from a pipe that a process holding a connection feeds or reads
    # (nc, or the interpreter that started it): the shape of every reverse shell. Applications
    # give their shells a command (-c) or a script, with pipes or a terminal.
    reverseShell: block
  files:
    # Programs and libraries of the image: an application writes its data elsewhere. (Python
    # tries to write bytecode caches next to its library and carries on when it cannot.)
    readOnly:
      - /usr/**
      - /bin/**
      - /sbin/**
      - /lib/**
      - /lib64/**
      # Persistence and privilege: new users, sudo rules, a library preloaded into every program.
      - /etc/passwd
      - /etc/shadow
      - /etc/group
      - /etc/sudoers
      - /etc/sudoers.d/**
      - /etc/ld.so.preload
    # Configuration is written at start by some entry points (the nginx image renders
    # /etc/nginx/conf.d from templates), so writes under /etc are allowed and reported.
    watch:
      - /etc/**
  network:
    connect:
      # The ECS task metadata and credentials endpoint, and the EC2 instance metadata service:
      # from there a shell gets the task role's AWS credentials.
      deny:
        - 169.254.170.2/32
        - 169.254.169.254/32
      # The language runtimes, whose AWS SDKs fetch the task role's credentials, may still reach
      # the ECS endpoint; a shell, curl or any other program may not. An exception holds only for
      # the application's own processes (exceptionsFor: application, the default): the command
      # the enforcer starts and what it starts, as long as no code from a command line (-c, -e),
      # standard input or a file written after start ran on the way. \`sh -c 'python3 -c ...'\`
      # started by the application (a command injection) is refused. An application started
      # through a shell command line of its own (\`npm start\` runs \`sh -c "node server.js"\`)
      # needs \`exceptionsFor: any\`, or its real command (\`node server.js\`) as the command.
      exceptions:
        - { exe: /usr/bin/node, to: [169.254.170.2/32] }
        - { exe: /usr/local/bin/node, to: [169.254.170.2/32] }
        - { exe: /usr/bin/python3*, to: [169.254.170.2/32] }
        - { exe: /usr/local/bin/python3*, to: [169.254.170.2/32] }
        - { exe: /usr/lib/jvm/**, to: [169.254.170.2/32] }
        - { exe: /opt/java/openjdk/bin/java, to: [169.254.170.2/32] }
    # No listen rule: applications choose their ports.
  # No process of the application can trace the enforcer or read its memory (the application
  # does not inherit CAP_SYS_PTRACE). Applications have no need to trace anything.
  selfProtection: on
  # A raw socket builds its own packets, around the connect rules above: Docker and ECS give
  # containers CAP_NET_RAW by default, and web applications never need it (ping does).
  capabilities:
    drop: [NET_RAW]
`;
