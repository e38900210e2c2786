// Package ci is the registry of CI platforms: it detects the platform a
// process runs on and builds its edge, the bundle of [exchange.TokenSource],
// [exchange.Masker], [exchange.Exporter] and [exchange.Reporter] that the
// exchange pipeline uses, plus the platform's post-step cleanup.
//
// Registration is explicit: each platform is a [Type] constant and a case
// in [New]'s switch. There is no init() self-registration, and an unknown
// type is an error listing the valid ones, never a nil edge.
//
// Platforms live in child packages (ci/github) that import package
// exchange, never this package, so the registry can import them.
package ci
