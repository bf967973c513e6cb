package main

import (
	"encoding/json"
	"io"
	"net/http"
)

// control serves the tests' side of the proxy:
//
//	POST   /_test/faults  one fault or a list (JSON), added to those in force
//	GET    /_test/faults  the faults in force
//	DELETE /_test/faults  no faults any more
//	GET    /_test/stats   what the proxy saw since the last reset (Stats)
//	DELETE /_test/stats   reset
func (p *proxy) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "POST /_test/faults":
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		list, err := parseFaults(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.faults.add(list)
		w.WriteHeader(http.StatusNoContent)
	case "GET /_test/faults":
		writeJSON(w, p.faults.list())
	case "DELETE /_test/faults":
		p.faults.clear()
		w.WriteHeader(http.StatusNoContent)
	case "GET /_test/stats":
		writeJSON(w, p.faults.snapshot())
	case "DELETE /_test/stats":
		p.faults.resetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unknown control "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
