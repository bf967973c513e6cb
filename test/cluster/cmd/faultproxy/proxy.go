package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// proxy forwards every request to the API server, applying the faults in force on the way.
type proxy struct {
	faults  *Faults
	forward *httputil.ReverseProxy
	info    *apirequest.RequestInfoFactory
	// compact compacts etcd so that every resourceVersion seen so far is gone.
	compact func(context.Context) error
}

// plan is what the faults decided for one forwarded request, read back when its answer arrives.
type plan struct {
	watch     bool
	loseReply bool
	dropWatch *Fault
	cutLog    *Fault
}

type planKey struct{}

var errAnswerLost = errors.New("answer dropped on purpose")

func newProxy(upstream *url.URL, transport http.RoundTripper, faults *Faults, compact func(context.Context) error) *proxy {
	p := &proxy{
		faults:  faults,
		compact: compact,
		info:    &apirequest.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")},
	}
	p.forward = &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport:      transport,
		FlushInterval:  -1, // watch events and log lines pass at once
		ModifyResponse: p.answer,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, errAnswerLost) {
				panic(http.ErrAbortHandler) // close the connection without a word
			}
			log.Printf("forwarding %s %s: %v", r.Method, r.URL.Path, err)
			writeStatus(w, http.StatusBadGateway, apierrors.NewServiceUnavailable("the fault proxy could not reach the API server: "+err.Error()))
		},
		ErrorLog: log.New(io.Discard, "", 0), // cut streams are on purpose
	}
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_test/") {
		p.control(w, r)
		return
	}
	req := call{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, verb: strings.ToLower(r.Method)}
	info, err := p.info.NewRequestInfo(r)
	if err != nil {
		info = &apirequest.RequestInfo{}
	}
	if info.IsResourceRequest {
		req.verb = info.Verb
	}
	p.faults.count(req.verb)

	if f := p.faults.take("delay", req); f != nil {
		select {
		case <-time.After(time.Duration(f.Ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	if f := p.faults.take("tooManyRequests", req); f != nil {
		seconds := f.RetryAfterSeconds
		if seconds <= 0 {
			seconds = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		writeStatus(w, http.StatusTooManyRequests, apierrors.NewTooManyRequests(orDefault(f.Message, "too many requests (injected)"), seconds))
		return
	}
	if f := p.faults.take("error", req); f != nil {
		code := f.Status
		if code == 0 {
			code = http.StatusInternalServerError
		}
		writeStatus(w, code, apierrors.NewGenericServerResponse(code, req.verb, schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name, orDefault(f.Message, "injected fault"), 0, false))
		return
	}
	pl := &plan{watch: req.verb == "watch"}
	pl.loseReply = p.faults.take("loseAnswer", req) != nil
	if pl.watch {
		pl.dropWatch = p.faults.take("dropWatch", req)
	}
	if info.Subresource == "log" {
		pl.cutLog = p.faults.take("cutLog", req)
	}
	p.forward.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), planKey{}, pl)))
}

// answer applies the plan to the API server's answer before it is passed on.
func (p *proxy) answer(res *http.Response) error {
	pl, _ := res.Request.Context().Value(planKey{}).(*plan)
	if pl == nil {
		return nil
	}
	if pl.loseReply {
		res.Body.Close()
		return errAnswerLost
	}
	if res.StatusCode == http.StatusGone {
		p.faults.gone()
	}
	if pl.watch && res.StatusCode == http.StatusOK {
		res.Body = &watchBody{src: bufio.NewReader(res.Body), closer: res.Body, proxy: p, drop: pl.dropWatch, ctx: res.Request.Context()}
	}
	if pl.cutLog != nil && res.StatusCode == http.StatusOK {
		// The answer will be shorter than the server said: without its length it goes out chunked, so that
		// "end" ends it cleanly instead of leaving the client short of the promised bytes.
		res.Header.Del("Content-Length")
		res.Body = &cutBody{src: res.Body, left: pl.cutLog.AfterBytes, destroy: pl.cutLog.Mode != "end"}
	}
	return nil
}

// watchBody passes a watch stream on one event (one line) at a time: it counts the 410 Gone events and
// ends the stream after the events a dropWatch fault allows.
type watchBody struct {
	src     *bufio.Reader
	closer  io.Closer
	proxy   *proxy
	drop    *Fault
	ctx     context.Context
	pending []byte
	events  int
}

func (b *watchBody) Read(out []byte) (int, error) {
	if len(b.pending) == 0 {
		if b.drop != nil && b.events >= b.drop.AfterEvents {
			if b.drop.Compact {
				if err := b.proxy.compact(b.ctx); err != nil {
					log.Printf("compacting etcd: %v", err)
				}
			}
			return 0, io.EOF
		}
		line, err := b.src.ReadBytes('\n')
		if len(line) == 0 {
			return 0, err
		}
		b.events++
		if bytes.Contains(line, []byte(`"type":"ERROR"`)) && bytes.Contains(line, []byte(`"code":410`)) {
			b.proxy.faults.gone()
		}
		b.pending = line
	}
	n := copy(out, b.pending)
	b.pending = b.pending[n:]
	return n, nil
}

func (b *watchBody) Close() error { return b.closer.Close() }

// cutBody passes LEFT bytes of a stream, then breaks it (destroy) or ends it.
type cutBody struct {
	src     io.ReadCloser
	left    int64
	destroy bool
}

var errCut = errors.New("log stream cut on purpose")

func (b *cutBody) Read(out []byte) (int, error) {
	if b.left <= 0 {
		if b.destroy {
			return 0, errCut
		}
		return 0, io.EOF
	}
	if int64(len(out)) > b.left {
		out = out[:b.left]
	}
	n, err := b.src.Read(out)
	b.left -= int64(n)
	return n, err
}

func (b *cutBody) Close() error { return b.src.Close() }

// writeStatus answers with a Status object, as the API server words its errors.
func writeStatus(w http.ResponseWriter, code int, err *apierrors.StatusError) {
	status := err.ErrStatus
	status.Kind, status.APIVersion, status.Code = "Status", "v1", int32(code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
