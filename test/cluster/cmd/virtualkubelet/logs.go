package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// timestampFormat is how a kubelet stamps each log line: RFC 3339 with nanoseconds always nine digits.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// containerRun is what a container's log depends on.
type containerRun struct {
	started time.Time       // when it started and wrote its lines; zero while it waits to start
	ends    time.Time       // when it ends; zero: when the pod is deleted
	gone    <-chan struct{} // closed when the pod is deleted
}

// containerFinder finds a container's run by its namespace, pod and name.
type containerFinder interface {
	container(namespace, pod, name string) (containerRun, bool)
}

// logServer answers the API server's requests for pods/log, as a kubelet's /containerLogs does. Each
// container writes LINES lines as it starts: "line I of LINES from CONTAINER".
type logServer struct {
	containers containerFinder
	lines      int
}

// handler serves GET /containerLogs/{namespace}/{pod}/{container}; anything else is not found.
func (s *logServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLog)
	return mux
}

// logQuery is a log request's parameters, as the API server passes them on.
type logQuery struct {
	follow     bool
	timestamps bool
	previous   bool
	since      time.Time // lines stamped before it are left out
	tail       int       // the last TAIL lines only; -1: all
	limit      int       // at most LIMIT bytes; 0: no limit
	stderr     bool      // the standard error only, where nothing is written
}

// parseLogQuery reads Q, whose sinceSeconds count back from NOW.
func parseLogQuery(q url.Values, now time.Time) (logQuery, error) {
	lq := logQuery{tail: -1}
	var err error
	flag := func(name string) bool {
		v, e := strconv.ParseBool(q.Get(name))
		if q.Has(name) && e != nil {
			err = fmt.Errorf("%s=%q: want true or false", name, q.Get(name))
		}
		return v
	}
	number := func(name string, min int) int {
		v, e := strconv.Atoi(q.Get(name))
		if q.Has(name) && (e != nil || v < min) {
			err = fmt.Errorf("%s=%q: want a whole number from %d", name, q.Get(name), min)
		}
		return v
	}
	lq.follow, lq.timestamps, lq.previous = flag("follow"), flag("timestamps"), flag("previous")
	if q.Has("tailLines") {
		lq.tail = number("tailLines", 0)
	}
	if q.Has("limitBytes") {
		lq.limit = number("limitBytes", 1)
	}
	if q.Has("sinceSeconds") {
		lq.since = now.Add(-time.Duration(number("sinceSeconds", 1)) * time.Second)
	}
	if q.Has("sinceTime") {
		t, e := time.Parse(time.RFC3339, q.Get("sinceTime"))
		if e != nil {
			err = fmt.Errorf("sinceTime=%q: want an RFC 3339 time", q.Get("sinceTime"))
		}
		lq.since = t
	}
	switch stream := q.Get("stream"); stream {
	case "", "All", "Stdout":
	case "Stderr":
		lq.stderr = true
	default:
		err = fmt.Errorf("stream=%q: want All, Stdout or Stderr", stream)
	}
	return lq, err
}

// serveLog writes a container's log; following it, it holds the response open until the container ends.
func (s *logServer) serveLog(w http.ResponseWriter, r *http.Request) {
	namespace, pod, name := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	c, ok := s.containers.container(namespace, pod, name)
	if !ok {
		http.Error(w, fmt.Sprintf("container %q in pod %s/%s not found", name, namespace, pod), http.StatusNotFound)
		return
	}
	q, err := parseLogQuery(r.URL.Query(), time.Now())
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case q.previous:
		http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", name, pod), http.StatusBadRequest)
		return
	case c.started.IsZero():
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", name, pod), http.StatusBadRequest)
		return
	}
	text, full := logText(name, s.lines, c.started, q)
	w.Header().Set("Content-Type", "text/plain")
	w.Write(text)
	if !q.follow || full {
		return
	}
	http.NewResponseController(w).Flush()
	waitEnd(r.Context(), c)
}

// logText is the log of CONTAINER, whose N lines are stamped from STARTED on, as Q asks for it: the lines
// since Q.since, the last Q.tail of them, cut to Q.limit bytes. FULL tells that the limit is reached.
func logText(container string, n int, started time.Time, q logQuery) (text []byte, full bool) {
	if q.stderr {
		return nil, false
	}
	var lines []string
	for i := 1; i <= n; i++ {
		at := started.Add(time.Duration(i) * time.Microsecond).UTC()
		if at.Before(q.since) {
			continue
		}
		line := fmt.Sprintf("line %d of %d from %s\n", i, n, container)
		if q.timestamps {
			line = at.Format(timestampFormat) + " " + line
		}
		lines = append(lines, line)
	}
	if q.tail >= 0 && len(lines) > q.tail {
		lines = lines[len(lines)-q.tail:]
	}
	text = []byte(strings.Join(lines, ""))
	if q.limit > 0 && len(text) >= q.limit {
		return text[:q.limit], true
	}
	return text, false
}

// waitEnd returns when the container C ends, its pod is deleted, or CTX (the request's) ends.
func waitEnd(ctx context.Context, c containerRun) {
	var ends <-chan time.Time
	if !c.ends.IsZero() {
		t := time.NewTimer(time.Until(c.ends))
		defer t.Stop()
		ends = t.C
	}
	select {
	case <-ends:
	case <-c.gone:
	case <-ctx.Done():
	}
}

// serverTLS is the log server's TLS: the CERTFILE and KEYFILE pair, or a self-signed certificate for
// HOST, made now. A client certificate is asked for but neither required nor checked: the API server
// shows its kubelet client certificate, and nothing here is secret.
func serverTLS(certFile, keyFile, host string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if certFile != "" || keyFile != "" {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	} else {
		cert, err = selfSigned(host)
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}, nil
}

// selfSigned makes a serving certificate for HOST (an IP address or a name), valid for a year.
func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		template.IPAddresses = []net.IP{ip}
	} else {
		template.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
