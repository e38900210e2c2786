// Package apptest is the sandbox the oidc-exchange program runs against
// outside any cloud: [World] starts an OIDC issuer, GitHub's ID-token
// endpoint, AWS STS, Google's STS and IAM Credentials and an RFC 8693
// broker on 127.0.0.1, and gives a step's runner environment.
//
// cmd/oidc-exchange-demo and the tests of package app use it. It sits
// under cmd/internal, and cmd/oidc-exchange never imports it: the binary
// that handles real credentials links no fake (internal/layout checks).
package apptest
