// The kubeconfig input: its credentials masked before anything is printed, written for the client to
// RUNNER_TEMP (never the workspace, which may become a build context), mode 0600.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parse } from "yaml";

/** Fields under users[].user that are not secret: paths, commands, switches. */
const NOT_SECRET = new Set(["command", "apiVersion", "interactiveMode", "installHint", "provideClusterInfo", "client-certificate", "client-key", "tokenFile", "token-file", "name"]);

/**
 * Every value in a kubeconfig that must never be printed: the whole text, and each credential of its
 * users (tokens, passwords, client keys and certificates, auth-provider and exec settings), with the
 * PEM lines inside base64 data. Short values (under 8 characters) are left out: masking them would
 * blank common words in the logs and protect nothing.
 */
export function kubeconfigSecrets(text: string): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (s.trim().length >= 8) out.add(s.trim());
  };
  add(text);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    // Not YAML: mask every line of it, nothing can be told apart.
    for (const l of text.split(/\r?\n/)) add(l);
    return [...out];
  }
  const walk = (value: unknown, key: string) => {
    if (typeof value === "string") {
      if (NOT_SECRET.has(key)) return;
      add(value);
      if (key.endsWith("-data")) {
        for (const l of Buffer.from(value, "base64").toString("utf8").split(/\r?\n/)) if (!l.startsWith("-----")) add(l);
      }
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  const users = (doc as { users?: { user?: unknown }[] } | null)?.users;
  if (Array.isArray(users)) for (const u of users) walk(u?.user, "");
  return [...out];
}

export function isInside(path: string, dir: string | undefined): boolean {
  if (!dir) return false;
  const rel = relative(resolve(dir), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Writes the kubeconfig to a fresh directory under RUNNER_TEMP (or the system's temp), mode 0600. */
export function writeKubeconfig(text: string, env: NodeJS.ProcessEnv): { path: string; remove(): void } {
  let base = env.RUNNER_TEMP || tmpdir();
  if (isInside(base, env.GITHUB_WORKSPACE)) base = tmpdir();
  if (isInside(base, env.GITHUB_WORKSPACE)) throw new Error("no temporary directory outside GITHUB_WORKSPACE to write the kubeconfig to");
  const dir = mkdtempSync(join(base, "buildpod-"));
  const path = join(dir, "kubeconfig");
  writeFileSync(path, text, { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
