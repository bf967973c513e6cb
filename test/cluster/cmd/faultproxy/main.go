// Command faultproxy stands between the tests and a real API server, on loopback, and misbehaves on
// demand: it drops watches (after compacting etcd, so that the resumed watch gets etcd's own 410 Gone),
// cuts log streams mid-line and mid-stream, answers 429 with Retry-After and 5xx, loses a create's answer
// after the server has acted, and slows answers down. Everything else passes through unchanged, upgrades
// (exec) included. The faults are set over HTTP on the same port (see control.go).
//
//	faultproxy --listen 127.0.0.1:0 --upstream https://10.251.0.2:6444 --ca ca.crt \
//	  --cert proxy.crt --key proxy.key --etcd http://10.251.0.2:2379
//
// It prints "listening on ADDRESS" once it serves.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	upstream := flag.String("upstream", "", "the API server's URL")
	caFile := flag.String("ca", "", "the CA that signed the API server's certificate")
	certFile := flag.String("cert", "", "this proxy's serving certificate")
	keyFile := flag.String("key", "", "its key")
	etcdURL := flag.String("etcd", "", "etcd's client URL, for compaction")
	flag.Parse()
	if err := run(*listen, *upstream, *caFile, *certFile, *keyFile, *etcdURL); err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
}

func run(listen, upstream, caFile, certFile, keyFile, etcdURL string) error {
	target, err := url.Parse(upstream)
	if err != nil || target.Host == "" {
		return fmt.Errorf("--upstream %q: give the API server's https URL", upstream)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("--ca: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("--ca %s: no certificate in it", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("--cert/--key: %v", err)
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 5 * time.Second, Logger: nil})
	if err != nil {
		return fmt.Errorf("--etcd %s: %v", etcdURL, err)
	}
	defer etcd.Close()

	// HTTP/1.1 upstream, as the tests' client speaks it, so that upgrades (exec) pass through.
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
	}
	p := newProxy(target, transport, &Faults{stats: newStats()}, compactAll(etcd))

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:      p,
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only
		ErrorLog:     log.New(os.Stderr, "faultproxy: ", 0),
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return srv.ServeTLS(ln, "", "")
}

// compactAll returns a function that compacts etcd up to a revision newer than any the tests have seen:
// two writes to a key of its own move the revision on, so that a watch resumed from the last event seen
// starts at a compacted revision however quiet the cluster was.
func compactAll(etcd *clientv3.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var rev int64
		for i := 0; i < 2; i++ {
			res, err := etcd.Put(ctx, "/buildpod-faultproxy/compaction", time.Now().String())
			if err != nil {
				return err
			}
			rev = res.Header.Revision
		}
		_, err := etcd.Compact(ctx, rev, clientv3.WithCompactPhysical())
		return err
	}
}
