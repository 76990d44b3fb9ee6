// Docker's rule for the argv a container runs, from the task definition's entryPoint/command and
// the image's ENTRYPOINT/CMD (moby daemon/commit.go `merge`, daemon/create.go; containerd CRI
// `WithProcessArgs` copies it):
//
//   if len(task.Entrypoint) == 0 {
//       if len(task.Cmd) == 0 { task.Cmd = image.Cmd }
//       if task.Entrypoint == nil { task.Entrypoint = image.Entrypoint }
//   }
//   then (after the merge) Entrypoint [""] is reset to nil; argv = Entrypoint ++ Cmd; both empty →
//   "no command specified".
//
// So a task that sets entryPoint discards the image CMD unless it sets command too, and
// entryPoint [""] (length 1, so the merge is skipped) discards both the image ENTRYPOINT and CMD.

/** How a task definition gives one of the two fields. */
export type FieldState =
  | "absent" // key not present
  | "empty" // []
  | "blank" // [""], Docker's "reset the entry point"
  | "set"; // anything else

/** Where each half of the effective argv comes from. */
export type ArgvSource = "task" | "image" | "none";

export interface ArgvSources {
  entrypoint: ArgvSource;
  command: ArgvSource;
}

export function fieldState(list: readonly unknown[] | null): FieldState {
  if (list === null) return "absent";
  if (list.length === 0) return "empty";
  if (list.length === 1 && list[0] === "") return "blank";
  return "set";
}

/**
 * Which source each half of the argv comes from. `entryPoint: []` is the one case Docker and the
 * ECS API may disagree on (an empty list is "set" for Docker but may be dropped by ECS), so the
 * caller rejects it before asking.
 */
export function argvSources(entryPoint: FieldState, command: FieldState): ArgvSources {
  const commandSet = command === "set" || command === "blank";
  switch (entryPoint) {
    case "set":
      return { entrypoint: "task", command: commandSet ? "task" : "none" };
    case "blank":
      return { entrypoint: "none", command: commandSet ? "task" : "none" };
    case "empty":
      return { entrypoint: "none", command: commandSet ? "task" : "image" };
    case "absent":
      return { entrypoint: "image", command: commandSet ? "task" : "image" };
  }
}

/** The argv Docker runs, for plain string lists (used by tests and by checks of a rewrite). */
export function effectiveArgv(
  taskEntryPoint: readonly string[] | null,
  taskCommand: readonly string[] | null,
  image: { entrypoint: readonly string[] | null; cmd: readonly string[] | null },
): string[] {
  let entrypoint: readonly string[] | null = taskEntryPoint;
  let cmd: readonly string[] | null = taskCommand;
  if (entrypoint === null || entrypoint.length === 0) {
    if (cmd === null || cmd.length === 0) cmd = image.cmd;
    if (entrypoint === null) entrypoint = image.entrypoint;
  }
  if (entrypoint !== null && entrypoint.length === 1 && entrypoint[0] === "") entrypoint = [];
  return [...(entrypoint ?? []), ...(cmd ?? [])];
}
