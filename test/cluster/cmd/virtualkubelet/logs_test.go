package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeContainers is a containerFinder over a fixed map, by namespace/pod/container.
type fakeContainers map[string]containerRun

func (f fakeContainers) container(namespace, pod, name string) (containerRun, bool) {
	c, ok := f[namespace+"/"+pod+"/"+name]
	return c, ok
}

// started is when the test containers started: long enough ago that they have written their lines.
var started = time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)

// startLogServer serves CONTAINERS, each writing 3 lines, over HTTP on loopback.
func startLogServer(t *testing.T, containers fakeContainers) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer((&logServer{containers: containers, lines: 3}).handler())
	t.Cleanup(srv.Close)
	return srv
}

// get asks SRV for PATH and returns the status and the whole body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func TestLogs(t *testing.T) {
	srv := startLogServer(t, fakeContainers{
		"ns/p/build":  {started: started, ends: started.Add(time.Second)},
		"ns/q/build":  {},
		"ns/p/source": {started: started, ends: started},
	})
	all := "line 1 of 3 from build\nline 2 of 3 from build\nline 3 of 3 from build\n"
	stamp := func(i int) string {
		return started.Add(time.Duration(i)*time.Microsecond).Format(timestampFormat) + " "
	}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/containerLogs/ns/p/build", 200, all},
		{"/containerLogs/ns/p/build?follow=true", 200, all},
		{"/containerLogs/ns/p/source", 200, strings.ReplaceAll(all, "build", "source")},
		{"/containerLogs/ns/p/build?timestamps=true", 200,
			"2020-03-01T12:00:00.000001000Z line 1 of 3 from build\n" + stamp(2) + "line 2 of 3 from build\n" + stamp(3) + "line 3 of 3 from build\n"},
		{"/containerLogs/ns/p/build?tailLines=2", 200, "line 2 of 3 from build\nline 3 of 3 from build\n"},
		{"/containerLogs/ns/p/build?tailLines=0", 200, ""},
		{"/containerLogs/ns/p/build?tailLines=9", 200, all},
		{"/containerLogs/ns/p/build?limitBytes=10", 200, "line 1 of "},
		{"/containerLogs/ns/p/build?sinceTime=2020-03-01T12:00:00Z", 200, all},
		{"/containerLogs/ns/p/build?sinceTime=2020-03-01T12:00:01Z", 200, ""},
		{"/containerLogs/ns/p/build?stream=Stderr", 200, ""},
		{"/containerLogs/ns/p/build?tailLines=-1", 400, ""},
		{"/containerLogs/ns/p/build?follow=maybe", 400, ""},
		{"/containerLogs/ns/p/build?previous=true", 400, ""},
		{"/containerLogs/ns/q/build", 400, ""},
		{"/containerLogs/ns/p/nope", 404, ""},
		{"/containerLogs/ns/nope/build", 404, ""},
		{"/containerLogs/ns/p", 404, ""},
		{"/exec/ns/p/build", 404, ""},
	} {
		status, body := get(t, srv, tc.path)
		if status != tc.status || (status == 200 && body != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}
}

func TestFollowEndsWhenTheContainerDoes(t *testing.T) {
	now := time.Now()
	srv := startLogServer(t, fakeContainers{"ns/p/build": {started: now, ends: now.Add(300 * time.Millisecond)}})
	res, err := srv.Client().Get(srv.URL + "/containerLogs/ns/p/build?follow=true&timestamps=true")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	var lines []string
	for range 3 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if early := time.Since(now); early >= 300*time.Millisecond {
		t.Errorf("the lines came after %v, not before the container's end", early)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("after the lines: %v, want the end of the stream", err)
	}
	if ended := time.Since(now); ended < 300*time.Millisecond {
		t.Errorf("the stream ended after %v, before the container did", ended)
	}
	if !strings.HasSuffix(lines[2], " line 3 of 3 from build\n") {
		t.Errorf("last line %q", lines[2])
	}
}

func TestFollowEndsWhenThePodGoes(t *testing.T) {
	gone := make(chan struct{})
	srv := startLogServer(t, fakeContainers{"ns/p/build": {started: time.Now(), gone: gone}})
	time.AfterFunc(100*time.Millisecond, func() { close(gone) })
	start := time.Now()
	status, body := get(t, srv, "/containerLogs/ns/p/build?follow=true")
	if status != 200 || strings.Count(body, "\n") != 3 {
		t.Errorf("%d %q", status, body)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("the stream ended after %v, before the pod went", d)
	}
}

func TestServerTLSTakesAnyClientCertificate(t *testing.T) {
	config, err := serverTLS("", "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer((&logServer{containers: fakeContainers{"ns/p/build": {started: started, ends: started}}, lines: 1}).handler())
	srv.TLS = config
	srv.StartTLS()
	defer srv.Close()

	// The client trusts the self-signed certificate alone, so the server must present it, for 127.0.0.1;
	// and shows a certificate of its own that nobody signed.
	leaf, err := x509.ParseCertificate(config.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	clientCert, err := selfSigned("client")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}}}}
	res, err := client.Get(srv.URL + "/containerLogs/ns/p/build")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "line 1 of 1 from build\n" {
		t.Errorf("%d %q", res.StatusCode, body)
	}
	if len(res.TLS.PeerCertificates) == 0 || !res.TLS.PeerCertificates[0].Equal(leaf) {
		t.Error("the server did not present its self-signed certificate")
	}
}
