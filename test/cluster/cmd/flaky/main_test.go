package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestDropperCountsDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drop")
	d := &dropper{path: path}
	if d.take() {
		t.Fatal("dropped with no control file")
	}
	if err := os.WriteFile(path, []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := []bool{d.take(), d.take(), d.take()}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("takes: %v, want true, true, false", got)
	}
	if b, _ := os.ReadFile(path); string(b) != "0" {
		t.Fatalf("control file holds %q", b)
	}
}

func TestDropsThenForwards(t *testing.T) {
	// An upstream that answers every connection with "hello".
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hello"))
			c.Close()
		}
	}()
	path := filepath.Join(t.TempDir(), "drop")
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var log bytes.Buffer
	go func() { _ = serve(ln, up.Addr().String(), &dropper{path: path}, &log) }()
	read := func() string {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got := read(); got != "" {
		t.Fatalf("the dropped connection read %q", got)
	}
	if got := read(); got != "hello" {
		t.Fatalf("the forwarded connection read %q", got)
	}
}
