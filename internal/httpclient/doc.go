// Package httpclient builds the one hardened [net/http.Client] that every
// outbound call of oidc-exchange uses, and the bounded retry helper that
// retries only failures explicitly marked as transient.
//
// The defaults of net/http are unsafe for a credential step: no overall
// timeout, unbounded response reads and silent redirects. [New] fixes all
// three. It also sends every request through the one forward [Proxy] the
// run was given (or the environment's), reaches names under .localhost at
// loopback, and reports a proxy's failures as a [ProxyError] naming it by
// host only. [Retry] is short, classified and jittered: only failures that a
// later attempt can change are retried, within a bound that a CI token
// outlives.
package httpclient
