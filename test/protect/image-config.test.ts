// The image config rewrite (pure): Docker's ENTRYPOINT/CMD rule, exact undo, labels.

import { describe, expect, it } from "vitest";
import { effectiveArgv } from "../../src/protect/ecs/docker-argv.js";
import { LABEL_ORIGINAL_ENTRYPOINT, LABEL_VERSION, protectConfig, protectionOf, unprotectConfig, type ConfigDocument } from "../../src/protect/image/config.js";
import { detectJsonStyle, formatJson } from "../../src/oci/json-style.js";

const LAYER = `sha256:${"a".repeat(64)}`;
const opts = { layerDiffId: LAYER, version: "9.9.9", policy: false, contents: "enforcer" };

function doc(config: Record<string, unknown> | null | undefined, extra: Record<string, unknown> = {}): ConfigDocument {
  return {
    created: "2024-05-01T10:00:00Z",
    architecture: "amd64",
    os: "linux",
    ...(config === undefined ? {} : { config }),
    rootfs: { type: "layers", diff_ids: [`sha256:${"b".repeat(64)}`] },
    history: [{ created: "2024-05-01T10:00:00Z", created_by: "ADD rootfs" }],
    ...extra,
  };
}

const runArgv = (c: ConfigDocument, runArgs: string[] | null = null): string[] => {
  const cfg = (c["config"] ?? {}) as { Entrypoint?: string[] | null; Cmd?: string[] | null };
  return effectiveArgv(null, runArgs, { entrypoint: cfg.Entrypoint ?? null, cmd: cfg.Cmd ?? null });
};

describe("protectConfig follows Docker's argv rule", () => {
  const cases: [string, Record<string, unknown> | null | undefined][] = [
    ["ENTRYPOINT and CMD", { Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["nginx", "-g", "daemon off;"] }],
    ["CMD only", { Cmd: ["python3", "app.py"] }],
    ["ENTRYPOINT only", { Entrypoint: ["/app/server", "--port", "80"], Cmd: null }],
    ["shell-form CMD", { Cmd: ["/bin/sh", "-c", 'echo "$HOME" && exec app'] }],
    ["shell-form ENTRYPOINT (CMD ignored by the shell)", { Entrypoint: ["/bin/sh", "-c", "exec app \"$@\""], Cmd: ["x"] }],
    ['ENTRYPOINT [""] (no entry point)', { Entrypoint: [""], Cmd: ["/bin/true"] }],
    ["Docker's nulls", { Entrypoint: null, Cmd: ["bash"], Env: null, Labels: null }],
  ];
  for (const [name, config] of cases) {
    it(`${name}: the enforcer runs the original argv, with and without run-time arguments`, () => {
      const original = doc(config);
      const { doc: out } = protectConfig(original, opts);
      expect(runArgv(out)).toEqual(["/vigil/enforcer", "--", ...runArgv(original)]);
      expect(runArgv(out, ["sh", "-c", "id"])).toEqual(["/vigil/enforcer", "--", ...runArgv(original, ["sh", "-c", "id"])]);
      expect((out["config"] as Record<string, unknown>)["Cmd"]).toEqual(config?.["Cmd"]);
      expect(unprotectConfig(out)?.doc).toEqual(original);
      expect(JSON.stringify(unprotectConfig(out)?.doc)).toBe(JSON.stringify(original));
    });
  }

  it("neither ENTRYPOINT nor CMD: protected anyway, with a warning", () => {
    const r = protectConfig(doc({ Env: ["PATH=/bin"] }), opts);
    expect((r.doc["config"] as Record<string, unknown>)["Entrypoint"]).toEqual(["/vigil/enforcer", "--"]);
    expect(r.warnings[0]).toMatch(/neither ENTRYPOINT nor CMD/);
  });

  it("no config object at all, and no history: undone key for key", () => {
    for (const original of [doc(undefined, {}), doc(null), { ...doc({ Cmd: ["x"] }), history: undefined }]) {
      delete original["history"];
      const { doc: out } = protectConfig(original, opts);
      expect(out["history"]).toBeUndefined();
      expect(JSON.stringify(unprotectConfig(out)?.doc)).toBe(JSON.stringify(original));
    }
  });

  it("records the version and the original entry point as labels; a policy adds VIGIL_POLICY_FILE", () => {
    const original = doc({ Entrypoint: ["/e"], Cmd: ["c"], Env: ["A=1"], Labels: { keep: "me" } });
    const { doc: out } = protectConfig(original, { ...opts, policy: true, contents: "enforcer, policy" });
    const c = out["config"] as { Labels: Record<string, string>; Env: string[] };
    expect(c.Labels["keep"]).toBe("me");
    expect(c.Labels[LABEL_VERSION]).toBe("9.9.9");
    expect(JSON.parse(c.Labels[LABEL_ORIGINAL_ENTRYPOINT] ?? "")).toEqual(["/e"]);
    expect(c.Env).toEqual(["A=1", "VIGIL_POLICY_FILE=/vigil/policy"]);
    expect(out["history"]).toEqual([
      { created: "2024-05-01T10:00:00Z", created_by: "ADD rootfs" },
      { created: "2024-05-01T10:00:00Z", created_by: "vigil protect image: COPY /vigil (enforcer, policy)", comment: "vigil 9.9.9" },
    ]);
    expect((out["rootfs"] as { diff_ids: string[] }).diff_ids.at(-1)).toBe(LAYER);
    expect(protectionOf(out)?.originalEntrypoint).toEqual(["/e"]);
    expect(unprotectConfig(out)?.doc).toEqual(original);
  });

  it("refuses an image whose Env already chooses a policy, or that carries vigil's labels unprotected", () => {
    expect(() => protectConfig(doc({ Env: ["VIGIL_POLICY=x"] }), { ...opts, policy: true })).toThrow(/VIGIL_POLICY/);
    expect(() => protectConfig(doc({ Labels: { [LABEL_ORIGINAL_ENTRYPOINT]: "[]" } }), opts)).toThrow(/already has the label/);
  });
});

describe("JSON style", () => {
  it("reproduces Go's escaping and MarshalIndent", () => {
    const value = { a: ["/bin/sh", "-c", "a && b > c"], b: {} };
    for (const text of ['{"a":["/bin/sh","-c","a \\u0026\\u0026 b \\u003e c"],"b":{}}', JSON.stringify(value, null, 3), `${JSON.stringify(value)}\n`]) {
      const style = detectJsonStyle(Buffer.from(text), value);
      expect(style).not.toBeNull();
      expect(formatJson(value, style ?? { indent: "", goEscape: false, trailingNewline: false })).toBe(text);
    }
    expect(detectJsonStyle(Buffer.from('{ "b": {}, "a": 1 }'), { b: {}, a: 1 })).toBeNull();
  });
});
