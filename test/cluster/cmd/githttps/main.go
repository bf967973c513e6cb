// Command githttps serves a directory of Git repositories over HTTPS, for the test cluster: the Git smart
// HTTP protocol is git's own http-backend, run as CGI per request, so clones and fetches behave as against
// any Git host behind a web server. It exists so that tests can check that a CA of the cluster's is trusted
// by Git (the git:// daemon has no TLS) and that Git reaches it through a forward proxy (CONNECT).
//
//	githttps --listen 10.251.0.2:8443 --cert git.crt --key git.key --root /path/to/repos
//
// A repository at ROOT/NAME is https://ADDRESS/NAME; its Git LFS objects are served from its own LFS store
// (lfs.go). It prints "listening on ADDRESS" once it serves, then
// one line per request on standard output: the client, the method, the path and query, and the status.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// serveConfig is what the git daemon of test/cluster/infra/gitd.ts serves with: builds fetch a commit by its
// SHA, not only a branch or tag tip, and may ask for a partial clone.
var serveConfig = [][2]string{
	{"uploadpack.allowReachableSHA1InWant", "true"},
	{"uploadpack.allowAnySHA1InWant", "true"},
	{"uploadpack.allowTipSHA1InWant", "true"},
	{"uploadpack.allowFilter", "true"},
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8443", "address to serve on")
	certFile := flag.String("cert", "", "the serving certificate (PEM)")
	keyFile := flag.String("key", "", "its key (PEM)")
	root := flag.String("root", "", "the directory of repositories")
	flag.Parse()
	if err := run(*listen, *certFile, *keyFile, *root); err != nil {
		fmt.Fprintln(os.Stderr, "githttps:", err)
		os.Exit(1)
	}
}

func run(listen, certFile, keyFile, root string) error {
	if certFile == "" || keyFile == "" || root == "" {
		return fmt.Errorf("--cert, --key and --root are required")
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return fmt.Errorf("--root %s: not a directory", root)
	}
	h, err := handler(root, os.Stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(os.Stderr, "githttps: ", 0)}
	fmt.Printf("listening on %s\n", ln.Addr())
	return srv.ServeTLS(ln, certFile, keyFile)
}

// handler runs git http-backend for every request on the repositories under ROOT and logs each request to
// ACCESSLOG.
func handler(root string, accessLog io.Writer) (http.Handler, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	env := []string{
		"GIT_PROJECT_ROOT=" + root,
		// Every repository under the root is served, as with git daemon --export-all.
		"GIT_HTTP_EXPORT_ALL=1",
		// Only this configuration and the repositories' own: none of the machine's.
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_COUNT=" + strconv.Itoa(len(serveConfig)),
	}
	for i, kv := range serveConfig {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	backend := &cgi.Handler{Path: git, Args: []string{"http-backend"}, Env: env}
	logger := log.New(accessLog, "", log.LstdFlags)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if !serveLFS(root, rec, r) {
			backend.ServeHTTP(rec, r)
		}
		logger.Printf("%s %s %s %d", r.RemoteAddr, r.Method, r.URL.RequestURI(), rec.status)
	}), nil
}

// statusRecorder remembers the status the backend answered with, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
