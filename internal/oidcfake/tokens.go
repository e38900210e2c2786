package oidcfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"
)

// TokenEndpoint imitates GitHub's ID-token endpoint: GET with
// ?api-version=2.0&audience=…, a Bearer request token, and a
// {"count":1,"value":"<jwt>"} answer.
type TokenEndpoint struct {
	// URL is what ACTIONS_ID_TOKEN_REQUEST_URL holds, with api-version.
	URL string
	// RequestToken is what ACTIONS_ID_TOKEN_REQUEST_TOKEN holds.
	RequestToken string
	Server       *httptest.Server

	mint  func(audience string) string
	delay atomic.Int64
	hits  atomic.Int64
}

// NewTokenEndpoint starts an endpoint minting tokens with mint.
func NewTokenEndpoint(requestToken string, mint func(audience string) string) *TokenEndpoint {
	te := &TokenEndpoint{RequestToken: requestToken, mint: mint}
	te.Server = httptest.NewServer(http.HandlerFunc(te.serve))
	te.URL = te.Server.URL + "/_apis/distributedtask/idtoken?api-version=2.0"
	return te
}

// SetLatency makes every successful answer take d in all, signing included.
func (te *TokenEndpoint) SetLatency(d time.Duration) { te.delay.Store(int64(d)) }

// Hits counts requests.
func (te *TokenEndpoint) Hits() int64 { return te.hits.Load() }

// Close stops the server.
func (te *TokenEndpoint) Close() { te.Server.Close() }

func (te *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	te.hits.Add(1)
	switch {
	case r.Method != http.MethodGet:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case r.Header.Get("Authorization") != "Bearer "+te.RequestToken:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	case r.URL.Query().Get("api-version") != "2.0":
		http.Error(w, "api-version required", http.StatusBadRequest)
		return
	}
	body, err := json.Marshal(map[string]any{"count": 1, "value": te.mint(r.URL.Query().Get("audience"))})
	if err != nil {
		http.Error(w, "encoding", http.StatusInternalServerError)
		return
	}
	if wait := time.Duration(te.delay.Load()) - time.Since(start); wait > 0 {
		time.Sleep(wait)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
