package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func lfsServer(t *testing.T) (*httptest.Server, string) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serveLFS(root, w, r) {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, root
}

func batchCall(t *testing.T, url, op string, objects ...lfsObject) batchResponse {
	t.Helper()
	body, _ := json.Marshal(batchRequest{Operation: op, Objects: objects})
	resp, err := http.Post(url+"/app.git/info/lfs/objects/batch", lfsMediaType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != lfsMediaType {
		t.Fatalf("batch %s: %d %s", op, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out batchResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLFSUploadThenDownload(t *testing.T) {
	srv, root := lfsServer(t)
	content := []byte("a large file, kept in LFS\n")
	sum := sha256.Sum256(content)
	oid := hex.EncodeToString(sum[:])
	obj := lfsObject{Oid: oid, Size: int64(len(content))}

	missing := batchCall(t, srv.URL, "download", obj)
	if e := missing.Objects[0].Error; e == nil || e.Code != http.StatusNotFound {
		t.Fatalf("download of a missing object: %+v", missing.Objects[0])
	}
	up := batchCall(t, srv.URL, "upload", obj)
	href := up.Objects[0].Actions["upload"].Href
	if href == "" {
		t.Fatalf("no upload action: %+v", up.Objects[0])
	}
	put := func(body []byte) int {
		req, _ := http.NewRequest(http.MethodPut, href, bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put([]byte("not the content")); code != http.StatusUnprocessableEntity {
		t.Fatalf("a body whose hash is not the oid: %d", code)
	}
	if code := put(content); code != http.StatusOK {
		t.Fatalf("upload: %d", code)
	}
	if _, err := os.Stat(filepath.Join(root, "app", ".git", "lfs", "objects", oid[:2], oid[2:4], oid)); err != nil {
		t.Fatalf("not in the repository's LFS store: %v", err)
	}
	if again := batchCall(t, srv.URL, "upload", obj); again.Objects[0].Actions != nil {
		t.Fatalf("an object the server has is asked for again: %+v", again.Objects[0])
	}
	down := batchCall(t, srv.URL, "download", obj)
	resp, err := http.Get(down.Objects[0].Actions["download"].Href)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, content) {
		t.Fatalf("downloaded %q", got)
	}
}

func TestLFSRefusesBadRequests(t *testing.T) {
	srv, _ := lfsServer(t)
	out := batchCall(t, srv.URL, "download", lfsObject{Oid: "../../etc/passwd", Size: 1})
	if e := out.Objects[0].Error; e == nil || e.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad oid: %+v", out.Objects[0])
	}
	resp, err := http.Post(srv.URL+"/app/info/lfs/objects/batch", lfsMediaType, bytes.NewReader([]byte(`{"operation":"delete"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("operation delete: %d", resp.StatusCode)
	}
	if lfsStore("/srv/repos", "../outside", "0000000000000000000000000000000000000000000000000000000000000000") != "" {
		t.Fatal("a repository name that leaves the root was given a store")
	}
}
