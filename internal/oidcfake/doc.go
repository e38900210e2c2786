// Package oidcfake runs the far ends of an exchange on 127.0.0.1: an OIDC
// issuer that signs GitHub-shaped RS256 tokens (go-oidc's oidctest server),
// and GitHub's ID-token endpoint. cmd/oidc-exchange-demo (through cmd/internal/apptest) and the benchmarks
// use it to run the real pipeline with no account anywhere; tests reach it
// through package exchangetest.
//
// Nothing here is a security boundary: keys are generated per process and
// every server listens on loopback only.
package oidcfake
