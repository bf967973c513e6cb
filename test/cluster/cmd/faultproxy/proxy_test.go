package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startProxy serves API as the API server and a fault proxy in front of it, both on loopback, and returns
// the proxy's server. COMPACT stands in for etcd's compaction.
func startProxy(t *testing.T, api http.Handler, compact func(context.Context) error) *httptest.Server {
	t.Helper()
	upstream := httptest.NewServer(api)
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(newProxy(target, upstream.Client().Transport, &Faults{stats: newStats()}, compact))
	t.Cleanup(front.Close)
	return front
}

// echoAPI answers every request 200 with its method and URI, and counts the requests that reached it.
type echoAPI struct{ hits atomic.Int32 }

func (a *echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.hits.Add(1)
	fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
}

// addFaults posts FAULTS (JSON) to the proxy's control endpoint.
func addFaults(t *testing.T, front *httptest.Server, faults string) {
	t.Helper()
	res, err := front.Client().Post(front.URL+"/_test/faults", "application/json", strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /_test/faults %s: %d %s", faults, res.StatusCode, body)
	}
}

// send makes one request through the proxy; REQUEST is "METHOD target". It returns the answer, whose body
// it has read whole.
func send(t *testing.T, front *httptest.Server, request string) (*http.Response, string) {
	t.Helper()
	method, target, _ := strings.Cut(request, " ")
	req, err := http.NewRequestWithContext(t.Context(), method, front.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatalf("%s: %v", request, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", request, err)
	}
	return res, string(body)
}

// decodeStatus reads the Status object an error answer carries.
func decodeStatus(t *testing.T, res *http.Response, body string) metav1.Status {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var s metav1.Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("the answer is no Status object: %v: %s", err, body)
	}
	if s.Kind != "Status" || s.APIVersion != "v1" || s.Status != metav1.StatusFailure || int(s.Code) != res.StatusCode {
		t.Errorf("Status object %+v does not match the answer's code %d", s, res.StatusCode)
	}
	return s
}

func TestPassThrough(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Header.Get("X-Sent"))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
	})
	front := startProxy(t, api, nil)

	req, err := http.NewRequest("POST", front.URL+"/apis/batch/v1/namespaces/ns/jobs?dryRun=All", strings.NewReader(`{"kind":"Job"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Sent", "along")
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || res.Header.Get("X-Seen") != "along" {
		t.Errorf("got %d with X-Seen %q, want 201 with the header passed both ways", res.StatusCode, res.Header.Get("X-Seen"))
	}
	if want := `POST /apis/batch/v1/namespaces/ns/jobs?dryRun=All {"kind":"Job"}`; string(body) != want {
		t.Errorf("the API server saw %q, want %q", body, want)
	}
}

func TestUpstreamDown(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	target, _ := url.Parse(gone.URL)
	gone.Close()
	front := httptest.NewServer(newProxy(target, http.DefaultTransport, &Faults{stats: newStats()}, nil))
	defer front.Close()

	res, body := send(t, front, "GET /api/v1/namespaces/ns/pods")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %d, want 502", res.StatusCode)
	}
	if s := decodeStatus(t, res, body); s.Reason != metav1.StatusReasonServiceUnavailable {
		t.Errorf("reason %q, want ServiceUnavailable", s.Reason)
	}
}

func TestErrorFault(t *testing.T) {
	tests := []struct {
		fault       string
		wantCode    int
		wantReason  metav1.StatusReason
		wantMessage string
	}{
		{`{"kind":"error"}`, 500, metav1.StatusReasonInternalError, "injected fault"},
		{`{"kind":"error","message":"etcd is away"}`, 500, metav1.StatusReasonInternalError, "etcd is away"},
		{`{"kind":"error","status":503}`, 503, metav1.StatusReasonServiceUnavailable, "(get pods p)"},
		{`{"kind":"error","status":404}`, 404, metav1.StatusReasonNotFound, "(get pods p)"},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			api := &echoAPI{}
			front := startProxy(t, api, nil)
			addFaults(t, front, tt.fault)

			res, body := send(t, front, "GET /api/v1/namespaces/ns/pods/p")
			if res.StatusCode != tt.wantCode {
				t.Fatalf("got %d %s, want %d", res.StatusCode, body, tt.wantCode)
			}
			s := decodeStatus(t, res, body)
			if s.Reason != tt.wantReason || !strings.Contains(s.Message, tt.wantMessage) {
				t.Errorf("reason %q message %q, want %q and a message with %q", s.Reason, s.Message, tt.wantReason, tt.wantMessage)
			}
			if n := api.hits.Load(); n != 0 {
				t.Errorf("the API server got %d requests, want none", n)
			}
		})
	}
}

func TestTooManyRequests(t *testing.T) {
	tests := []struct {
		fault     string
		wantAfter int
	}{
		{`{"kind":"tooManyRequests"}`, 1},
		{`{"kind":"tooManyRequests","retryAfterSeconds":7}`, 7},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			api := &echoAPI{}
			front := startProxy(t, api, nil)
			addFaults(t, front, tt.fault)

			res, body := send(t, front, "GET /api/v1/namespaces/ns/pods/p")
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("got %d %s, want 429", res.StatusCode, body)
			}
			if got, want := res.Header.Get("Retry-After"), fmt.Sprint(tt.wantAfter); got != want {
				t.Errorf("Retry-After %q, want %q", got, want)
			}
			s := decodeStatus(t, res, body)
			if s.Reason != metav1.StatusReasonTooManyRequests || s.Details == nil || int(s.Details.RetryAfterSeconds) != tt.wantAfter {
				t.Errorf("Status %+v, want reason TooManyRequests and retryAfterSeconds %d", s, tt.wantAfter)
			}
			if n := api.hits.Load(); n != 0 {
				t.Errorf("the API server got %d requests, want none", n)
			}
		})
	}
}

func TestLoseAnswer(t *testing.T) {
	created := make(chan string, 2)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		created <- string(body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"kind":"Job"}`)
	})
	front := startProxy(t, api, nil)
	addFaults(t, front, `{"kind":"loseAnswer","verb":"create","count":1}`)
	create := func() (*http.Response, error) {
		return front.Client().Post(front.URL+"/apis/batch/v1/namespaces/ns/jobs", "application/json", strings.NewReader(`{"metadata":{"name":"j"}}`))
	}

	res, err := create()
	if err == nil {
		res.Body.Close()
		t.Fatalf("the client got an answer (%d); want the connection closed without one", res.StatusCode)
	}
	// The proxy drops the answer only once it has it, so the server has acted by now.
	select {
	case got := <-created:
		if got != `{"metadata":{"name":"j"}}` {
			t.Errorf("the API server got %q", got)
		}
	default:
		t.Fatal("the API server never got the create")
	}

	// The fault is used up: the next create is answered.
	res, err = create()
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("second create: got %d, want 201", res.StatusCode)
	}
}

func TestDelay(t *testing.T) {
	const ms = 200
	api := &echoAPI{}
	front := startProxy(t, api, nil)
	addFaults(t, front, fmt.Sprintf(`{"kind":"delay","ms":%d}`, ms))

	start := time.Now()
	res, _ := send(t, front, "GET /api/v1/namespaces/ns/pods/p")
	if elapsed := time.Since(start); elapsed < ms*time.Millisecond {
		t.Errorf("answered after %v, want at least %d ms", elapsed, ms)
	}
	if res.StatusCode != http.StatusOK || api.hits.Load() != 1 {
		t.Errorf("got %d with %d requests upstream, want the request forwarded once the delay is over", res.StatusCode, api.hits.Load())
	}
}

// watchAPI streams five watch events, one chunk each, then holds the watch open as a real server does;
// it closes ended when the proxy hangs up.
func watchAPI(ended chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"p%d","resourceVersion":"%d"}}}`+"\n", i, i)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
		close(ended)
	})
}

// readEvents reads a watch through the proxy until the stream ends or MOST events have come. It returns
// the events read and, if the stream broke, how.
func readEvents(t *testing.T, front *httptest.Server, target string, most int) (int, error) {
	t.Helper()
	res, err := front.Client().Get(front.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	events := bufio.NewReader(res.Body)
	n := 0
	for ; n < most; n++ {
		if _, err := events.ReadString('\n'); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestDropWatch(t *testing.T) {
	tests := []struct {
		name       string
		fault      string
		wantEvents int
		dropped    bool
	}{
		{"after two events", `{"kind":"dropWatch","afterEvents":2}`, 2, true},
		{"at once", `{"kind":"dropWatch","afterEvents":0}`, 0, true},
		{"another path", `{"kind":"dropWatch","afterEvents":2,"path":"/jobs$"}`, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ended := make(chan struct{})
			front := startProxy(t, watchAPI(ended), nil)
			addFaults(t, front, tt.fault)

			n, err := readEvents(t, front, "/api/v1/namespaces/ns/pods?watch=true", 5)
			if err != nil {
				t.Fatalf("the watch broke after %d events: %v; want it ended cleanly", n, err)
			}
			if n != tt.wantEvents {
				t.Fatalf("got %d events, want %d", n, tt.wantEvents)
			}
			if tt.dropped {
				// The API server's side of the watch is closed too, not left streaming into nothing.
				select {
				case <-ended:
				case <-time.After(10 * time.Second):
					t.Fatal("the API server's watch is still open")
				}
			}
		})
	}
}

func TestDropWatchCompacts(t *testing.T) {
	tests := []struct {
		name       string
		fault      string
		compactErr error
		wantCalls  int32
	}{
		{"compact", `{"kind":"dropWatch","afterEvents":1,"compact":true}`, nil, 1},
		{"compaction fails", `{"kind":"dropWatch","afterEvents":1,"compact":true}`, errors.New("etcd is away"), 1},
		{"no compact", `{"kind":"dropWatch","afterEvents":1}`, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			compact := func(context.Context) error {
				calls.Add(1)
				return tt.compactErr
			}
			front := startProxy(t, watchAPI(make(chan struct{})), compact)
			addFaults(t, front, tt.fault)

			n, err := readEvents(t, front, "/api/v1/namespaces/ns/pods?watch=true", 5)
			if err != nil || n != 1 {
				t.Fatalf("got %d events and %v, want the watch ended cleanly after 1", n, err)
			}
			// Compaction comes before the end of the stream: a client that resumes at once must find the
			// revisions it has seen gone.
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("etcd compacted %d times by the end of the watch, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestCutLog(t *testing.T) {
	// A log of 100 lines of 9 bytes, "line 001\n" on, which the API server either streams as it comes
	// (chunked, as when following) or answers whole (short, so net/http gives it a Content-Length). The
	// cuts at 100 bytes fall mid-line.
	var text strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&text, "line %03d\n", i)
	}
	whole := text.String()
	api := func(streamed bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !streamed {
				io.WriteString(w, whole)
				return
			}
			for line := range strings.Lines(whole) {
				io.WriteString(w, line)
				w.(http.Flusher).Flush()
			}
		})
	}

	tests := []struct {
		name      string
		fault     string
		streamed  bool
		target    string
		wantBytes int
		wantBreak bool
	}{
		{"destroy streamed", `{"kind":"cutLog","afterBytes":100,"mode":"destroy"}`, true, "/api/v1/namespaces/ns/pods/p/log?follow=true", 100, true},
		{"destroy whole", `{"kind":"cutLog","afterBytes":100,"mode":"destroy"}`, false, "/api/v1/namespaces/ns/pods/p/log", 100, true},
		{"destroy by default", `{"kind":"cutLog","afterBytes":100}`, true, "/api/v1/namespaces/ns/pods/p/log?follow=true", 100, true},
		{"end streamed", `{"kind":"cutLog","afterBytes":100,"mode":"end"}`, true, "/api/v1/namespaces/ns/pods/p/log?follow=true", 100, false},
		{"end whole", `{"kind":"cutLog","afterBytes":100,"mode":"end"}`, false, "/api/v1/namespaces/ns/pods/p/log", 100, false},
		{"log shorter than the cut", `{"kind":"cutLog","afterBytes":5000}`, true, "/api/v1/namespaces/ns/pods/p/log?follow=true", len(whole), false},
		{"not a log", `{"kind":"cutLog","afterBytes":100}`, true, "/api/v1/namespaces/ns/pods/p", len(whole), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := startProxy(t, api(tt.streamed), nil)
			addFaults(t, front, tt.fault)

			res, err := front.Client().Get(front.URL + tt.target)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			if string(got) != whole[:tt.wantBytes] {
				t.Errorf("got %d bytes %q, want the log's first %d", len(got), got, tt.wantBytes)
			}
			if broke := err != nil; broke != tt.wantBreak {
				t.Errorf("reading the log ended with %v; want it broken: %v", err, tt.wantBreak)
			}
		})
	}
}
