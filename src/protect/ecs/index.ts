// Public API of the ECS rewrite.

export { effectiveArgv } from "./docker-argv.js";
export { KNOWN_AGENTS, knownAgent } from "./agents.js";
export { READ_ONLY_FIELDS } from "./input.js";
export { checkEcs, planImageLookups, protectEcs, protectEcsWithResolver, unprotectEcs } from "./protect.js";
export type { CheckResult } from "./protect.js";
export type * from "./types.js";
