package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
)

// teapot marks the answers an injected error fault gave, as no API server answers 418.
const teapot = http.StatusTeapot

func TestMatching(t *testing.T) {
	const (
		pods = "/api/v1/namespaces/ns/pods"
		jobs = "/apis/batch/v1/namespaces/ns/jobs"
	)
	tests := []struct {
		name    string
		match   Fault
		request string
		hit     bool
	}{
		{"no match fields: every request", Fault{}, "GET " + pods, true},
		{"path", Fault{Path: "/pods$"}, "GET " + pods, true},
		{"path, another", Fault{Path: "/pods$"}, "GET " + pods + "/p", false},
		{"path without the query", Fault{Path: "watch"}, "GET " + pods + "?watch=true", false},
		{"query", Fault{Query: "container=build"}, "GET " + pods + "/p/log?container=build&follow=true", true},
		{"query, another", Fault{Query: "container=build"}, "GET " + pods + "/p/log?container=init", false},
		{"query without the path", Fault{Query: "log"}, "GET " + pods + "/p/log", false},
		{"method", Fault{Method: "POST"}, "POST " + pods, true},
		{"method, another", Fault{Method: "POST"}, "GET " + pods, false},
		{"verb watch", Fault{Verb: "watch"}, "GET " + pods + "?watch=true", true},
		{"verb watch, a list", Fault{Verb: "watch"}, "GET " + pods, false},
		{"verb list, a watch", Fault{Verb: "list"}, "GET " + pods + "?watch=true", false},
		{"verb get, a list", Fault{Verb: "get"}, "GET " + pods, false},
		{"verb get", Fault{Verb: "get"}, "GET " + pods + "/p", true},
		{"verb create, a get", Fault{Verb: "create"}, "GET " + pods + "/p", false},
		{"path and verb", Fault{Path: "/jobs$", Verb: "create"}, "POST " + jobs, true},
		{"path and verb, the verb only", Fault{Path: "/jobs$", Verb: "create"}, "POST " + pods, false},
		{"path and verb, the path only", Fault{Path: "/jobs$", Verb: "create"}, "GET " + jobs, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &echoAPI{}
			front := startProxy(t, api, nil)
			f := tt.match
			f.Kind, f.Status = "error", teapot
			body, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			addFaults(t, front, string(body))

			res, _ := send(t, front, tt.request)
			if hit := res.StatusCode == teapot; hit != tt.hit {
				t.Errorf("%s with %s: got %d; want the fault applied: %v", tt.request, body, res.StatusCode, tt.hit)
			}
			if forwarded := api.hits.Load() == 1; forwarded == tt.hit {
				t.Errorf("%s with %s: forwarded %v, want %v", tt.request, body, forwarded, !tt.hit)
			}
		})
	}
}

// The verb is the API server's, so that a fault can tell a watch from a list or a get.
func TestVerbs(t *testing.T) {
	const (
		pods = "/api/v1/namespaces/ns/pods"
		jobs = "/apis/batch/v1/namespaces/ns/jobs"
	)
	tests := []struct {
		request, verb string
	}{
		{"GET " + pods, "list"},
		{"GET " + pods + "?labelSelector=app%3Dbuild", "list"},
		{"GET " + pods + "?watch=true", "watch"},
		{"GET " + pods + "?fieldSelector=metadata.name%3Dp&watch=true&resourceVersion=7", "watch"},
		{"GET /api/v1/watch/namespaces/ns/pods/p", "watch"},
		{"GET " + pods + "/p", "get"},
		{"GET " + pods + "/p/log?follow=true", "get"},
		{"POST " + jobs, "create"},
		{"POST " + pods + "/p/exec?command=sh", "create"},
		{"PUT " + jobs + "/j", "update"},
		{"PATCH " + jobs + "/j", "patch"},
		{"DELETE " + jobs + "/j", "delete"},
		{"DELETE " + jobs, "deletecollection"},
		{"GET /version", "get"},
		{"POST /version", "post"},
	}
	for _, tt := range tests {
		t.Run(tt.request, func(t *testing.T) {
			front := startProxy(t, &echoAPI{}, nil)
			addFaults(t, front, `{"kind":"error","status":418,"verb":"`+tt.verb+`"}`)

			if res, _ := send(t, front, tt.request); res.StatusCode != teapot {
				t.Errorf("a fault for verb %s did not apply: got %d", tt.verb, res.StatusCode)
			}
			if got, want := getStats(t, front).Requests, map[string]int{tt.verb: 1}; !maps.Equal(got, want) {
				t.Errorf("requests counted as %v, want %v", got, want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	const (
		get    = "GET /api/v1/namespaces/ns/pods/p"
		create = "POST /apis/batch/v1/namespaces/ns/jobs"
	)
	tests := []struct {
		name     string
		faults   string
		requests []string
		want     []int
	}{
		{
			"used up",
			`{"kind":"error","count":2}`,
			[]string{get, get, get},
			[]int{500, 500, 200},
		},
		{
			"no count: until cleared",
			`{"kind":"error"}`,
			[]string{get, get, get},
			[]int{500, 500, 500},
		},
		{
			"first in order, then the next",
			`[{"kind":"error","count":1},{"kind":"error","status":503,"count":1}]`,
			[]string{get, get, get},
			[]int{500, 503, 200},
		},
		{
			"used only by the requests it matches",
			`{"kind":"error","verb":"create","count":1}`,
			[]string{get, create, get, create},
			[]int{200, 500, 200, 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := startProxy(t, &echoAPI{}, nil)
			addFaults(t, front, tt.faults)
			var got []int
			for _, r := range tt.requests {
				res, _ := send(t, front, r)
				got = append(got, res.StatusCode)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
