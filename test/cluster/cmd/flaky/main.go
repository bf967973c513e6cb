// Command flaky forwards TCP connections to an upstream, but closes the next N at once, without a byte, when
// told: a registry with passing trouble, for the tests that check that builders retry a push.
//
//	flaky --listen 10.251.0.2:5003 --upstream 10.251.0.2:5000 --control /path/to/drop
//
// The control file holds the number of connections still to drop; each dropped connection lowers it by
// one. Absent or 0, every connection is forwarded. It prints "listening on ADDRESS" once it serves, then one
// line per connection: the client and "dropped" or "forwarded".
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5003", "address to serve on")
	upstream := flag.String("upstream", "", "address to forward to")
	control := flag.String("control", "", "file holding the number of connections to drop")
	flag.Parse()
	if *upstream == "" || *control == "" {
		fmt.Fprintln(os.Stderr, "flaky: --upstream and --control are required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flaky:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	err = serve(ln, *upstream, &dropper{path: *control}, os.Stdout)
	fmt.Fprintln(os.Stderr, "flaky:", err)
	os.Exit(1)
}

// serve drops or forwards each connection LN accepts, logging which to LOG, until LN fails.
func serve(ln net.Listener, upstream string, d *dropper, log io.Writer) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if d.take() {
			fmt.Fprintf(log, "%s dropped\n", c.RemoteAddr())
			c.Close()
			continue
		}
		fmt.Fprintf(log, "%s forwarded\n", c.RemoteAddr())
		go forward(c, upstream)
	}
}

// dropper counts down the control file's number, one per connection it drops.
type dropper struct {
	mu   sync.Mutex
	path string
}

// take reports whether this connection is to be dropped, and counts it.
func (d *dropper) take() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := os.ReadFile(d.path)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return false
	}
	return os.WriteFile(d.path, []byte(strconv.Itoa(n-1)), 0o644) == nil
}

func forward(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	<-done
}
