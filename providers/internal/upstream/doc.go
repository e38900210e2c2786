// Package upstream is what every provider does with the service it calls,
// written once: the bounded retry loop and the error it leaves with
// ([Retrier]), the RFC 6749 error answer ([OAuthError],
// [ParseOAuthError]) and the check of a configured endpoint URL
// ([ParseEndpoint]).
//
// It sits below the providers (providers/aws, providers/gcp,
// providers/broker) and beside [exchange]: it imports exchange and
// internal/httpclient, and no provider, CI edge or cloud SDK. Being
// internal to providers/, nothing else can come to depend on it.
package upstream
