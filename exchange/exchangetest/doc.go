// Package exchangetest holds test helpers for code built on package
// exchange: an in-process OIDC issuer that signs real RS256 tokens with
// go-oidc's oidctest server, GitHub-shaped claims, and recording fakes for
// the pipeline's seams. Import it only from _test.go files and from the
// demo, which runs the same pieces as a local sandbox.
package exchangetest
