package main

import (
	"bytes"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is an access log the test reads while the server may still write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gitEnv is an environment for the host's git that reads none of the machine's configuration and trusts
// CAFILE alone ("" for the default bundle).
func gitEnv(home, caFile string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@buildpod.invalid",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@buildpod.invalid")
	if caFile != "" {
		env = append(env, "GIT_SSL_CAINFO="+caFile)
	}
	return env
}

func git(t *testing.T, env []string, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustGit(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, env, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// serve starts githttps's handler over TLS on loopback for the repositories under ROOT; it returns the
// server's URL, a file holding its certificate (its own CA) and the access log.
func serve(t *testing.T, root string) (string, string, *syncBuffer) {
	t.Helper()
	accessLog := &syncBuffer{}
	h, err := handler(root, accessLog)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemCert, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile, accessLog
}

func TestCloneOverHTTPS(t *testing.T) {
	home := t.TempDir()
	root := t.TempDir()
	env := gitEnv(home, "")
	repo := filepath.Join(root, "repo")
	mustGit(t, env, root, "init", "-q", "-b", "main", repo)
	mustGit(t, env, repo, "commit", "-q", "--allow-empty", "-m", "first")
	first := mustGit(t, env, repo, "rev-parse", "HEAD")
	mustGit(t, env, repo, "commit", "-q", "--allow-empty", "-m", "second")
	head := mustGit(t, env, repo, "rev-parse", "HEAD")

	url, caFile, accessLog := serve(t, root)
	trusting := gitEnv(home, caFile)

	t.Run("clone", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "clone")
		mustGit(t, trusting, "", "clone", "-q", url+"/repo", dest)
		if got := mustGit(t, trusting, dest, "rev-parse", "HEAD"); got != head {
			t.Fatalf("cloned HEAD %s, want %s", got, head)
		}
		if !strings.Contains(accessLog.String(), "GET /repo/info/refs?service=git-upload-pack 200") {
			t.Fatalf("no info/refs request in the access log:\n%s", accessLog)
		}
		if !strings.Contains(accessLog.String(), "POST /repo/git-upload-pack 200") {
			t.Fatalf("no upload-pack request in the access log:\n%s", accessLog)
		}
	})

	// A commit that is no branch's tip, asked for by its SHA over the original protocol, which checks wants
	// against the advertised tips unless uploadpack.allowReachableSHA1InWant (or AnySHA1) is on.
	t.Run("fetch an unadvertised commit", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "fetch")
		mustGit(t, trusting, "", "init", "-q", dest)
		mustGit(t, trusting, dest, "-c", "protocol.version=0", "fetch", "-q", "--depth=1", url+"/repo", first)
		if got := mustGit(t, trusting, dest, "rev-parse", "FETCH_HEAD"); got != first {
			t.Fatalf("fetched %s, want %s", got, first)
		}
	})

	t.Run("untrusted", func(t *testing.T) {
		out, err := git(t, env, "", "ls-remote", url+"/repo")
		if err == nil {
			t.Fatalf("ls-remote without the CA succeeded:\n%s", out)
		}
		if !strings.Contains(out, "certificate") {
			t.Fatalf("ls-remote without the CA failed, but not for the certificate:\n%s", out)
		}
	})

	t.Run("missing repository", func(t *testing.T) {
		out, err := git(t, trusting, "", "ls-remote", url+"/nothing-here")
		if err == nil {
			t.Fatalf("ls-remote of a missing repository succeeded:\n%s", out)
		}
		if !strings.Contains(accessLog.String(), "GET /nothing-here/info/refs?service=git-upload-pack 404") {
			t.Fatalf("no 404 in the access log:\n%s", accessLog)
		}
	})
}
