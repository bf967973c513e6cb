package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// control makes one request to the proxy's control endpoints and returns the status and body.
func control(t *testing.T, front *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, front.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func getFaults(t *testing.T, front *httptest.Server) []Fault {
	t.Helper()
	code, body := control(t, front, "GET", "/_test/faults", "")
	var list []Fault
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil {
		t.Fatalf("GET /_test/faults: %d %s %v", code, body, err)
	}
	return list
}

func getStats(t *testing.T, front *httptest.Server) Stats {
	t.Helper()
	code, body := control(t, front, "GET", "/_test/stats", "")
	var s Stats
	if err := json.Unmarshal([]byte(body), &s); code != http.StatusOK || err != nil {
		t.Fatalf("GET /_test/stats: %d %s %v", code, body, err)
	}
	return s
}

// kindsOf lists the faults' kinds and what is left of their counts, as "kind" or "kind/count".
func kindsOf(list []Fault) string {
	var s []string
	for _, f := range list {
		if f.Count != nil {
			s = append(s, fmt.Sprintf("%s/%d", f.Kind, *f.Count))
		} else {
			s = append(s, f.Kind)
		}
	}
	return strings.Join(s, " ")
}

func TestControlFaults(t *testing.T) {
	front := startProxy(t, &echoAPI{}, nil)
	if got := getFaults(t, front); len(got) != 0 {
		t.Fatalf("a new proxy has faults: %+v", got)
	}

	addFaults(t, front, `{"kind":"error","status":503,"path":"/log$","count":2}`)
	addFaults(t, front, `[{"kind":"delay","ms":1},{"kind":"cutLog","afterBytes":10,"mode":"end"}]`)
	list := getFaults(t, front)
	if got, want := kindsOf(list), "error/2 delay cutLog"; got != want {
		t.Fatalf("faults in force: %s, want %s", got, want)
	}
	if f := list[0]; f.Status != 503 || f.Path != "/log$" {
		t.Errorf("the first fault came back as %+v", f)
	}

	// A request uses up one of a fault's count, and a used-up fault is gone.
	send(t, front, "GET /api/v1/namespaces/ns/pods/p/log")
	if got, want := kindsOf(getFaults(t, front)), "error/1 delay cutLog"; got != want {
		t.Errorf("after one request: %s, want %s", got, want)
	}
	send(t, front, "GET /api/v1/namespaces/ns/pods/p/log")
	if got, want := kindsOf(getFaults(t, front)), "delay cutLog"; got != want {
		t.Errorf("after two requests: %s, want %s", got, want)
	}

	if code, body := control(t, front, "DELETE", "/_test/faults", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /_test/faults: %d %s", code, body)
	}
	if got := getFaults(t, front); len(got) != 0 {
		t.Errorf("faults left after clearing: %+v", got)
	}
}

func TestControlRejects(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"not JSON", `error please`},
		{"unknown kind", `{"kind":"explode"}`},
		{"unknown cutLog mode", `{"kind":"cutLog","afterBytes":1,"mode":"gently"}`},
		{"bad path expression", `{"kind":"error","path":"("}`},
		{"bad query expression", `{"kind":"error","query":"[a"}`},
		{"one bad in a list", `[{"kind":"error"},{"kind":"nope"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := startProxy(t, &echoAPI{}, nil)
			if code, body := control(t, front, "POST", "/_test/faults", tt.body); code != http.StatusBadRequest {
				t.Errorf("got %d %s, want 400", code, body)
			}
			// A list is taken whole or not at all.
			if got := getFaults(t, front); len(got) != 0 {
				t.Errorf("faults in force after a refusal: %+v", got)
			}
		})
	}
}

func TestControlUnknown(t *testing.T) {
	front := startProxy(t, &echoAPI{}, nil)
	for _, r := range []string{"GET /_test/nothing", "PUT /_test/faults", "POST /_test/stats"} {
		method, path, _ := strings.Cut(r, " ")
		if code, _ := control(t, front, method, path, ""); code != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", r, code)
		}
	}
	if got := getStats(t, front).Requests; len(got) != 0 {
		t.Errorf("control requests counted as API requests: %v", got)
	}
}

func TestStats(t *testing.T) {
	api := &echoAPI{}
	front := startProxy(t, api, nil)
	addFaults(t, front, `[
		{"kind":"tooManyRequests","verb":"get","count":1},
		{"kind":"error","verb":"create","count":1},
		{"kind":"delay","ms":1,"verb":"list"}
	]`)
	for _, r := range []string{
		"GET /api/v1/namespaces/ns/pods/p",
		"GET /api/v1/namespaces/ns/pods/p",
		"POST /apis/batch/v1/namespaces/ns/jobs",
		"POST /apis/batch/v1/namespaces/ns/jobs",
		"GET /api/v1/namespaces/ns/pods",
		"GET /api/v1/namespaces/ns/pods",
	} {
		send(t, front, r)
	}

	s := getStats(t, front)
	if want := map[string]int{"get": 2, "create": 2, "list": 2}; !maps.Equal(s.Requests, want) {
		t.Errorf("requests %v, want %v", s.Requests, want)
	}
	if want := map[string]int{"tooManyRequests": 1, "error": 1, "delay": 2}; !maps.Equal(s.Applied, want) {
		t.Errorf("applied %v, want %v", s.Applied, want)
	}

	if code, body := control(t, front, "DELETE", "/_test/stats", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /_test/stats: %d %s", code, body)
	}
	if s := getStats(t, front); len(s.Requests) != 0 || len(s.Applied) != 0 || s.Gone != 0 {
		t.Errorf("stats after a reset: %+v", s)
	}
	// Resetting the stats leaves the faults alone.
	if got, want := kindsOf(getFaults(t, front)), "delay"; got != want {
		t.Errorf("faults after resetting the stats: %s, want %s", got, want)
	}
}

func TestStatsGone(t *testing.T) {
	const expired = `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 7 (42)","reason":"Expired","code":410}}` + "\n"
	tests := []struct {
		name    string
		request string
		answer  func(w http.ResponseWriter)
		want    int
	}{
		{"HTTP 410", "GET /api/v1/namespaces/ns/pods", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, `{"kind":"Status","code":410,"reason":"Expired"}`)
		}, 1},
		{"watch ERROR event with code 410", "GET /api/v1/namespaces/ns/pods?watch=true&resourceVersion=7", func(w http.ResponseWriter) {
			io.WriteString(w, `{"type":"ADDED","object":{"kind":"Pod"}}`+"\n"+expired)
		}, 1},
		{"watch ERROR event with another code", "GET /api/v1/namespaces/ns/pods?watch=true", func(w http.ResponseWriter) {
			io.WriteString(w, strings.Replace(expired, "410", "500", 1))
		}, 0},
		{"410 in a list is no watch event", "GET /api/v1/namespaces/ns/pods", func(w http.ResponseWriter) {
			io.WriteString(w, expired)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := startProxy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.answer(w) }), nil)
			send(t, front, tt.request)
			if got := getStats(t, front).Gone; got != tt.want {
				t.Errorf("gone %d, want %d", got, tt.want)
			}
		})
	}
}
