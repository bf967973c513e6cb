// The small S2I builder image that the end-to-end tests and the cache benchmark build with (no vitest
// here, so the benchmark can import it). Its assemble copies the source, counts builds through the saved
// artifacts, and "downloads dependencies" (sleeps DEPS_FETCH_SECONDS, writes a file) unless the previous
// image's artifacts bring them: a cold build pays for the download, an incremental rebuild does not.

/** The builder's Git repository content: a Dockerfile FROM `from` and the S2I scripts. */
export function s2iBuilderFiles(from: string): Record<string, string> {
  const assemble = [
    "#!/bin/sh", "set -e",
    "mkdir -p /opt/app",
    "if [ -f /tmp/artifacts/builds ]; then echo \"restoring artifacts: $(cat /tmp/artifacts/builds) earlier build(s)\"; n=$(cat /tmp/artifacts/builds); else echo 'no artifacts: first build'; n=0; fi",
    "if [ -d /tmp/artifacts/deps ]; then cp -R /tmp/artifacts/deps /opt/app/deps; echo 'dependencies: restored from artifacts'; else echo 'dependencies: downloading'; sleep \"${DEPS_FETCH_SECONDS:-0}\"; mkdir -p /opt/app/deps; cat /proc/sys/kernel/random/uuid > /opt/app/deps/lib; fi",
    "cp -R /tmp/src/. /opt/app/",
    "echo $((n + 1)) > /opt/app/builds",
    "echo \"assembled with GREETING=$GREETING as uid $(id -u)\"",
  ].join("\n") + "\n";
  return {
    Dockerfile: [
      `FROM ${from}`,
      "LABEL io.openshift.s2i.scripts-url=image:///usr/libexec/s2i",
      "COPY s2i/ /usr/libexec/s2i/",
      "RUN chmod 755 /usr/libexec/s2i/* && mkdir -p /opt/app && chown 1001:0 /opt/app",
      "USER 1001",
      "",
    ].join("\n"),
    "s2i/assemble": assemble,
    "s2i/run": "#!/bin/sh\ncat /opt/app/hello.txt\n",
    "s2i/save-artifacts": "#!/bin/sh\ntar -cf - -C /opt/app builds deps\n",
  };
}
