package sandbox

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

// SetLatency delays every response.
func (te *TokenEndpoint) SetLatency(d time.Duration) { te.delay.Store(int64(d)) }

// Hits counts requests.
func (te *TokenEndpoint) Hits() int64 { return te.hits.Load() }

// Close stops the server.
func (te *TokenEndpoint) Close() { te.Server.Close() }

func (te *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	te.hits.Add(1)
	if d := time.Duration(te.delay.Load()); d > 0 {
		time.Sleep(d)
	}
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
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": te.mint(r.URL.Query().Get("audience"))})
}
