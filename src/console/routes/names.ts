// Names users choose (workload groups, policies), as JSON Schema fragments.

export const GROUP_NAME = { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" } as const;
export const POLICY_NAME = GROUP_NAME;
