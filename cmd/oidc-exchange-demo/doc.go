// Command oidc-exchange-demo runs the oidc-exchange program end to end in a
// local sandbox, with no account anywhere:
//
//	go run ./cmd/oidc-exchange-demo [aws|aws-denied|aws-claims|gcp|gcp-denied|broker]
//
// An OIDC issuer, GitHub's ID-token endpoint, AWS STS, Google's STS and IAM
// Credentials and an RFC 8693 broker run in this process on 127.0.0.1
// (cmd/internal/apptest). The action runs unchanged against them, and the
// demo prints what a workflow would see, with secrets masked as the runner
// masks them.
//
// It is a command of its own so that cmd/oidc-exchange, the binary that
// handles real credentials, links none of these fakes.
package main
