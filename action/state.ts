// The names main saves with core.saveState for post: the build it created, and whether it finished.
export const STATE = { run: "run", namespace: "namespace", kind: "kind", finished: "finished" } as const;
