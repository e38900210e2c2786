// Package httpclient builds the one hardened [net/http.Client] that every
// outbound call of oidc-exchange uses, and the bounded retry helper that
// retries only failures explicitly marked as transient.
//
// The defaults of net/http are unsafe for a credential step: no overall
// timeout, unbounded response reads and silent redirects. [New] fixes all
// three; [Retry] replaces the "retry everything twelve times" habit of the
// incumbent actions with a short, classified, jittered loop.
package httpclient
