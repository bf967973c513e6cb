// A `git daemon` on loopback serving test repositories from a directory, plus a helper that creates a
// repository from files with a branch, a tag and fixed dates (so commit SHAs are the same on every run).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { canConnect, reapOnExit, run, sleep } from "./proc.js";
import { freePort, type Listen } from "./registry.js";

export interface GitDaemon {
  port: number;
  /** Directory whose repositories are served: a repository at baseDir/NAME is git://127.0.0.1:PORT/NAME */
  baseDir: string;
  url(repoName: string): string;
  stop(): Promise<void>;
}

export interface GitDaemonOptions {
  stateDir: string;
  /** Directory of repositories; default STATE/git/repos */
  baseDir?: string;
  port?: number;
  /** Where it listens: default 127.0.0.1 in this process's network namespace. */
  listen?: Listen;
}

const SERVE_CONFIG = ["uploadpack.allowReachableSHA1InWant=true", "uploadpack.allowAnySHA1InWant=true",
  "uploadpack.allowTipSHA1InWant=true", "uploadpack.allowFilter=true"];


export async function startGitDaemon(opts: GitDaemonOptions): Promise<GitDaemon> {
  const baseDir = opts.baseDir ?? join(opts.stateDir, "git", "repos");
  mkdirSync(baseDir, { recursive: true });
  const port = opts.port || (await freePort());
  const address = opts.listen?.address ?? "127.0.0.1";
  const args: string[] = [];
  for (const c of SERVE_CONFIG) args.push("-c", c);
  args.push("daemon", "--reuseaddr", `--listen=${address}`, `--port=${port}`, `--base-path=${baseDir}`, "--export-all",
    "--informative-errors", baseDir);
  const logFd = openSync(join(dirname(baseDir), `daemon-${port}.log`), "a");
  const argv = [...(opts.listen?.enter ?? []), "git", ...args];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", logFd, logFd] });
  const exited = reapOnExit(child);
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port, address))) {
    if (exited()) throw new Error("git daemon exited early");
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`git daemon did not listen on ${port}`);
    }
    await sleep(50);
  }
  return {
    port,
    baseDir,
    url: (name) => `git://${address}:${port}/${name}`,
    stop: async () => {
      if (exited()) return;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(3000)]);
      if (!exited()) child.kill("SIGKILL");
    },
  };
}

export interface TestRepoCommit {
  /** Path -> content; files not named keep their previous content. A null content deletes the file. */
  files: Record<string, string | Buffer | null>;
  message?: string;
  /** Unix seconds; default 1700000000 plus the commit's index. */
  time?: number;
}

export interface TestRepoOptions {
  /** Shorthand for a single commit. */
  files?: Record<string, string | Buffer | null>;
  commits?: TestRepoCommit[];
  branch?: string; // default "main"
  /** An annotated tag on the last commit. */
  tag?: string;
}

export interface TestRepo {
  path: string;
  branch: string;
  tag?: string;
  /** SHAs of the commits in order; the last is the branch head. */
  commits: string[];
  head: string;
  /** Commit time of the head, unix seconds. */
  headTime: number;
}

/** Create (or recreate) a repository at baseDir/name. Same inputs give the same SHAs. */
export async function createTestRepo(baseDir: string, name: string, opts: TestRepoOptions): Promise<TestRepo> {
  const path = join(baseDir, name);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  const branch = opts.branch ?? "main";
  const commits = opts.commits ?? [{ files: opts.files ?? { "README": "test\n" } }];
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "buildpod test",
    GIT_AUTHOR_EMAIL: "test@buildpod.invalid",
    GIT_COMMITTER_NAME: "buildpod test",
    GIT_COMMITTER_EMAIL: "test@buildpod.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
  const git = (args: string[], env: NodeJS.ProcessEnv = baseEnv) => run("git", ["-C", path, ...args], { env });
  await git(["init", "-q", "-b", branch]);
  for (const c of SERVE_CONFIG) {
    const [k, v] = c.split("=") as [string, string];
    await git(["config", k, v]);
  }
  const shas: string[] = [];
  let time = 0;
  for (const [i, c] of commits.entries()) {
    for (const [file, content] of Object.entries(c.files)) {
      const full = join(path, file);
      if (content === null) {
        rmSync(full, { force: true });
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    await git(["add", "-A"]);
    time = c.time ?? 1_700_000_000 + i;
    const date = `@${time} +0000`;
    const env = { ...baseEnv, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    await git(["commit", "-q", "--allow-empty", "-m", c.message ?? `commit ${i + 1}`], env);
    shas.push((await git(["rev-parse", "HEAD"])).stdout.trim());
  }
  if (opts.tag) {
    const date = `@${time} +0000`;
    await git(["tag", "-a", opts.tag, "-m", `tag ${opts.tag}`], { ...baseEnv, GIT_COMMITTER_DATE: date });
  }
  const head = shas[shas.length - 1]!;
  return { path, branch, tag: opts.tag, commits: shas, head, headTime: time };
}
