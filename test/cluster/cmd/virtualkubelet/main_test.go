package main

import (
	"regexp"
	"testing"
)

func TestNodeIP(t *testing.T) {
	for listen, want := range map[string]string{
		"10.251.0.2:10350": "10.251.0.2",
		"[fd00::2]:10350":  "fd00::2",
		"0.0.0.0:10350":    "",
		"localhost:10350":  "",
		"10.251.0.2":       "",
	} {
		got, err := nodeIP(listen)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("nodeIP(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
}

func TestKubeletVersionIsClientGosRelease(t *testing.T) {
	// client-go v0.X.Y is Kubernetes v1.X.Y; v1.0.0 would be the fallback, the build's modules unread.
	if v := kubeletVersion(); !regexp.MustCompile(`^v1\.[1-9][0-9]*\.[0-9]+$`).MatchString(v) {
		t.Errorf("kubelet version %s, want client-go's v0.X.Y as v1.X.Y", v)
	}
}
