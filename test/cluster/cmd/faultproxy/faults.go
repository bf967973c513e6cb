package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
)

// Fault is one misbehaviour, as the tests post it to /_test/faults. Kind says what happens; the match fields
// say to which requests; Count, when set, uses the fault up after that many requests.
type Fault struct {
	// Kind is one of:
	//   error            answer Status (default 500) with a Status object, without forwarding
	//   tooManyRequests  answer 429 with Retry-After: RetryAfterSeconds (default 1), without forwarding
	//   loseAnswer       forward, let the server act, then close the connection instead of answering
	//   delay            hold the request Ms milliseconds, then forward it
	//   dropWatch        end a watch cleanly after AfterEvents events (as a server does when a watch times
	//                    out); with Compact, compact etcd first, so that resuming from the last
	//                    resourceVersion gets etcd's own 410 Gone
	//   cutLog           cut a log stream after AfterBytes bytes: Mode "destroy" breaks the connection,
	//                    "end" ends the response as if the log were whole
	Kind              string `json:"kind"`
	Status            int    `json:"status,omitempty"`
	Message           string `json:"message,omitempty"`
	RetryAfterSeconds int    `json:"retryAfterSeconds,omitempty"`
	Ms                int    `json:"ms,omitempty"`
	AfterEvents       int    `json:"afterEvents,omitempty"`
	Compact           bool   `json:"compact,omitempty"`
	AfterBytes        int64  `json:"afterBytes,omitempty"`
	Mode              string `json:"mode,omitempty"`

	// Path is a regular expression tested against the request's path (without the query); Query one
	// tested against the raw query.
	Path  string `json:"path,omitempty"`
	Query string `json:"query,omitempty"`
	// Method is an HTTP method; Verb a Kubernetes verb (get, list, watch, create, ...), as the API server
	// derives it.
	Method string `json:"method,omitempty"`
	Verb   string `json:"verb,omitempty"`
	Count  *int   `json:"count,omitempty"`

	path, query *regexp.Regexp
}

var kinds = map[string]bool{"error": true, "tooManyRequests": true, "loseAnswer": true, "delay": true, "dropWatch": true, "cutLog": true}

func (f *Fault) validate() error {
	if !kinds[f.Kind] {
		return fmt.Errorf("unknown fault kind %q (one of error, tooManyRequests, loseAnswer, delay, dropWatch, cutLog)", f.Kind)
	}
	if f.Mode != "" && f.Mode != "destroy" && f.Mode != "end" {
		return fmt.Errorf("cutLog mode %q: use destroy or end", f.Mode)
	}
	var err error
	if f.path, err = compile("path", f.Path); err != nil {
		return err
	}
	f.query, err = compile("query", f.Query)
	return err
}

func compile(what, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %v", what, expr, err)
	}
	return re, nil
}

// parseFaults reads one fault or a list of them.
func parseFaults(body []byte) ([]*Fault, error) {
	var list []*Fault
	if err := json.Unmarshal(body, &list); err != nil {
		var one Fault
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, fmt.Errorf("a fault is a JSON object or a list of them: %v", err)
		}
		list = []*Fault{&one}
	}
	for _, f := range list {
		if err := f.validate(); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// call is what a fault is matched against.
type call struct {
	method, path, query, verb string
}

// Faults holds the faults in force and counts what happened.
type Faults struct {
	mu     sync.Mutex
	faults []*Fault
	stats  Stats
}

// Stats are what the proxy saw and did since the last reset.
type Stats struct {
	// Requests by Kubernetes verb.
	Requests map[string]int `json:"requests"`
	// Applied counts the faults used, by kind.
	Applied map[string]int `json:"applied"`
	// Gone counts the 410 Gone answers the API server sent (an HTTP 410, or an ERROR event with code 410).
	Gone int `json:"gone"`
}

func newStats() Stats { return Stats{Requests: map[string]int{}, Applied: map[string]int{}} }

func (s *Faults) add(list []*Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, list...)
}

func (s *Faults) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Faults) list() []*Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Fault{}, s.faults...)
}

// take returns the first fault of KIND matching R, using up one of its count.
func (s *Faults) take(kind string, r call) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Kind != kind || (f.path != nil && !f.path.MatchString(r.path)) || (f.query != nil && !f.query.MatchString(r.query)) ||
			(f.Method != "" && f.Method != r.method) || (f.Verb != "" && f.Verb != r.verb) {
			continue
		}
		if f.Count != nil {
			*f.Count--
			if *f.Count <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.stats.Applied[kind]++
		c := *f
		return &c
	}
	return nil
}

func (s *Faults) count(verb string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests[verb]++
}

func (s *Faults) gone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Gone++
}

func (s *Faults) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newStats()
	for k, v := range s.stats.Requests {
		c.Requests[k] = v
	}
	for k, v := range s.stats.Applied {
		c.Applied[k] = v
	}
	c.Gone = s.stats.Gone
	return c
}

func (s *Faults) resetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}
