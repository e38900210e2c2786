// Package exchange owns the domain of oidc-exchange: the types that flow
// between a CI platform and a credential provider, the interfaces both sides
// implement, verification of the CI job's OIDC token, claim expectations, the
// audit record, and [Pipeline], the single place that fixes the order
//
//	token source → verify & expect → provider exchange → mask → export → audit
//
// Data flows CI → exchange → provider → exchange → CI. Providers (package
// providers/...) and CI edges (package ci/...) import this package; this
// package imports neither, nor any cloud SDK.
//
// Every failure has one outcome ([OutcomeOf]): its [Class] and audit code,
// the exit code and the hint printed under the error, from one table of
// sentinels, so cmd, the audit record and the README cannot disagree.
//
// Secrets travel as [Secret], whose String, GoString, LogValue and
// MarshalJSON all print "REDACTED", so a stray log line or error cannot leak
// one. The only way out is [Secret.Reveal], called by the code that masks
// and exports.
package exchange
