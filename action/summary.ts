// The job summary of a build, as Markdown with a little HTML. Pure; main writes it with core.summary.
import type { BuildResult } from "../core/model.js";

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const code = (s: string) => `<code>${escape(s)}</code>`;

const HEADLINE: Record<BuildResult["status"], string> = {
  Complete: "✅ Build complete",
  Failed: "❌ Build failed",
  StartFailed: "❌ Build failed to start",
  Cancelled: "⏹️ Build cancelled",
  Error: "❌ Build error",
};

/** Lines of the failing container kept in the summary, and characters of each (the summary holds 1 MiB). */
const TAIL_LINES = 30;
const LINE_CHARS = 500;

export function summaryMarkdown(r: BuildResult): string {
  const source = r.source.uri
    ? `${escape(r.source.uri)}${r.source.ref ? ` at ${code(r.source.ref)}` : ""}${r.source.commit ? ` (commit ${code(r.source.commit.slice(0, 12))})` : ""}`
    : r.source.commit ? `commit ${code(r.source.commit.slice(0, 12))}` : "uploaded from the workspace";
  const rows: [string, string][] = [
    ["Status", `${escape(r.status)} (${escape(r.reason)})`],
    ["Image", code(r.image)],
    ["Digest", r.digest ? code(r.digest) : r.pushed === false ? `not pushed${r.imageId ? ` (image ID ${code(r.imageId)})` : ""}` : "none"],
    ...(r.provenance ? [["Provenance", code(r.provenance)] as [string, string]] : []),
    ...(r.platforms ?? []).map((p): [string, string] => [escape(p.platform), p.digest ? code(p.digest) : `${escape(p.status)} (${escape(p.reason)})`]),
    ["Duration", r.durationSeconds !== undefined ? `${r.durationSeconds}s` : "unknown"],
    ["Source", source],
    ["Build", r.run ? `${code(r.run)} in namespace ${code(r.namespace)}${r.pod ? `, pod ${code(r.pod)}` : ""}` : `not created (namespace ${code(r.namespace)})`],
  ];
  const out = [
    `### ${HEADLINE[r.status]}`,
    "",
    "| | |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, "\\|")} |`),
    "",
  ];
  if (r.status !== "Complete" || !r.digest) out.push(escape(r.message), "");
  if (r.status !== "Complete" && r.logTail?.length) {
    const what = r.failedContainer ? `Last lines of container ${code(r.failedContainer)}${r.exitCode !== undefined ? ` (exit code ${r.exitCode})` : ""}` : "Details";
    const tail = r.logTail.slice(-TAIL_LINES).map((l) => escape(l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l));
    out.push("<details>", `<summary>${what}</summary>`, "", `<pre>${tail.join("\n")}</pre>`, "", "</details>", "");
  }
  return out.join("\n");
}
