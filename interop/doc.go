// Package interop proves oidc-exchange against servers we did not write.
// It is its own module so that the peers' dependencies (zitadel's OpenID
// Provider, and Dex when it can be built) never enter the project's go.mod.
//
// The suite runs from .ci/run; see README.md in this directory.
package interop
