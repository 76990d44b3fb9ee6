// WWW-Authenticate challenges (RFC 7235), as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
//   Basic realm="Registry Realm"

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one header value into its challenges; scheme names are lowercased. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i] ?? "")) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipSpace();
    if (s[i] === ",") {
      i++;
      continue;
    }
    const scheme = token();
    if (scheme === "") {
      i++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    // auth-params: name=value pairs separated by commas, until the next scheme.
    for (;;) {
      skipSpace();
      const save = i;
      const name = token();
      skipSpace();
      if (name === "" || s[i] !== "=") {
        i = name === "" ? i : save;
        break;
      }
      i++;
      skipSpace();
      let value = "";
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (s[i] === ",") i++;
      else break;
    }
  }
  return challenges;
}
