// Package exchangetest holds test helpers for code built on package
// exchange: an in-process OIDC issuer that signs real RS256 tokens (from
// internal/oidcfake, on go-oidc's oidctest server), GitHub-shaped claims,
// and recording fakes for the pipeline's seams. Import it only from _test.go
// files.
package exchangetest
