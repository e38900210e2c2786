// Package providers is the registry of credential providers: it maps a
// [Type] and a [Config] to an exchange.Provider. Registration is an explicit
// switch, not init() side effects, so the set of providers a binary can use
// is visible in one place and an unknown name fails with the valid ones.
package providers
