package main

// The Git LFS batch API with the basic transfer, over each repository's own LFS store (.git/lfs/objects,
// where git-lfs keeps a clone's objects), so that a test repository's LFS files are fetched as from any LFS
// host. git-lfs finds it at the remote's URL with ".git/info/lfs" appended.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

const lfsMediaType = "application/vnd.git-lfs+json"

// lfsPath is a repository's batch endpoint or one of its objects: /NAME[.git]/info/lfs/objects/(batch|OID).
var lfsPath = regexp.MustCompile(`^/(.+?)(?:\.git)?/info/lfs/objects/(batch|[0-9a-f]{64})$`)

type lfsObject struct {
	Oid     string               `json:"oid"`
	Size    int64                `json:"size"`
	Actions map[string]lfsAction `json:"actions,omitempty"`
	Error   *lfsError            `json:"error,omitempty"`
}

type lfsAction struct {
	Href string `json:"href"`
}

type lfsError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type batchRequest struct {
	Operation string      `json:"operation"`
	Objects   []lfsObject `json:"objects"`
}

type batchResponse struct {
	Transfer string      `json:"transfer"`
	Objects  []lfsObject `json:"objects"`
}

// lfsStore is where ROOT's repository NAME keeps object OID, or "" when NAME leaves ROOT.
func lfsStore(root, name, oid string) string {
	repo := filepath.Join(root, filepath.FromSlash(name))
	if !strings.HasPrefix(repo, filepath.Clean(root)+string(filepath.Separator)) {
		return ""
	}
	return filepath.Join(repo, ".git", "lfs", "objects", oid[:2], oid[2:4], oid)
}

// serveLFS answers an LFS request for ROOT's repositories; it reports false for a path that is not one.
func serveLFS(root string, w http.ResponseWriter, r *http.Request) bool {
	m := lfsPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	name, what := m[1], m[2]
	switch {
	case what == "batch" && r.Method == http.MethodPost:
		batch(root, name, w, r)
	case what != "batch" && r.Method == http.MethodGet:
		path := lfsStore(root, name, what)
		if path == "" {
			http.NotFound(w, r)
			return true
		}
		http.ServeFile(w, r, path)
	case what != "batch" && r.Method == http.MethodPut:
		upload(root, name, what, w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
	return true
}

func batch(root, name string, w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || (req.Operation != "download" && req.Operation != "upload") {
		lfsFail(w, http.StatusUnprocessableEntity, "a batch request needs operation download or upload and a list of objects")
		return
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	base := scheme + "://" + r.Host + "/" + name + "/info/lfs/objects/"
	resp := batchResponse{Transfer: "basic", Objects: make([]lfsObject, 0, len(req.Objects))}
	for _, o := range req.Objects {
		out := lfsObject{Oid: o.Oid, Size: o.Size}
		valid := validOid(o.Oid) != ""
		have := false
		if valid {
			st, err := os.Stat(lfsStore(root, name, o.Oid))
			have = err == nil && st.Size() == o.Size
		}
		switch {
		case !valid:
			out.Error = &lfsError{Code: http.StatusUnprocessableEntity, Message: "not a SHA-256 object ID"}
		case req.Operation == "download" && !have:
			out.Error = &lfsError{Code: http.StatusNotFound, Message: "object not found"}
		case req.Operation == "download":
			out.Actions = map[string]lfsAction{"download": {Href: base + o.Oid}}
		case !have:
			out.Actions = map[string]lfsAction{"upload": {Href: base + o.Oid}}
		}
		resp.Objects = append(resp.Objects, out)
	}
	w.Header().Set("Content-Type", lfsMediaType)
	_ = json.NewEncoder(w).Encode(resp)
}

// upload keeps the body as object OID once its SHA-256 is OID.
func upload(root, name, oid string, w http.ResponseWriter, r *http.Request) {
	path := lfsStore(root, name, oid)
	if path == "" {
		http.NotFound(w, r)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "upload-")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, sum), r.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if hex.EncodeToString(sum.Sum(nil)) != oid {
		lfsFail(w, http.StatusUnprocessableEntity, "the content's SHA-256 is not the object ID")
		return
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func validOid(oid string) string {
	if len(oid) != 64 || strings.Trim(oid, "0123456789abcdef") != "" {
		return ""
	}
	return oid
}

func lfsFail(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", lfsMediaType)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
